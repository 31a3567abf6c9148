-- A bridged call's wrap-up (小结): when its collector refined the outcome the switch recorded.
ALTER TABLE attempts ADD COLUMN wrapped_up_at TIMESTAMPTZ;
