//! The console's words in Simplified Chinese (the default) and English.
//!
//! One table, each key with both languages side by side, so a missing translation cannot
//! compile. Templates call `t("key")`; codes (rule codes, outcomes) stay codes and are
//! translated here by their code.

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文 (the default).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// From the `lang` cookie's value; anything else is Chinese.
    pub fn from_tag(tag: Option<&str>) -> Lang {
        match tag {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub const fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// `(key, 中文, English)`.
const WORDS: &[(&str, &str, &str)] = &[
    ("app", "阳光催收", "Daylight"),
    ("sign_in", "登录", "Sign in"),
    ("sign_out", "退出", "Sign out"),
    ("login_label", "工号或手机号", "Employee number or mobile"),
    ("password", "密码", "Password"),
    ("bad_credentials", "工号或密码错误", "Wrong login or password"),
    ("second_factor", "双因素认证", "Second factor"),
    (
        "second_factor_hint",
        "请输入身份验证器应用中的六位动态码，或一个恢复码。",
        "Type the six-digit code of your authenticator app, or a recovery code.",
    ),
    ("otp_code", "动态码", "Code"),
    ("verify", "验证", "Verify"),
    ("cancel", "取消", "Cancel"),
    ("bad_code", "动态码错误或已使用", "The code is wrong or used already"),
    ("security", "账号安全", "Security"),
    (
        "second_factor_required",
        "您的角色须使用双因素认证登录：请先完成绑定。",
        "Your role signs in with a second factor: enrol one first.",
    ),
    ("enrolled", "已启用", "On"),
    ("not_enrolled", "未启用", "Off"),
    ("enrol", "绑定身份验证器", "Enrol an authenticator app"),
    ("enrol_again", "更换身份验证器", "Enrol another authenticator app"),
    (
        "scan_qr",
        "用身份验证器应用（如 Google Authenticator、Microsoft Authenticator、FreeOTP）扫描二维码，然后输入显示的六位动态码。",
        "Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, FreeOTP …), then type the six-digit code it shows.",
    ),
    ("secret_by_hand", "无法扫描时手动输入密钥：", "Cannot scan? Type the key by hand:"),
    ("second_factor_done", "双因素认证已启用。", "The second factor is on."),
    (
        "recovery_codes_hint",
        "以下恢复码仅显示这一次，每个可代替动态码登录一次。请离线妥善保存。",
        "These recovery codes are shown this once; each signs you in once in place of a code. Keep them offline.",
    ),
    ("continue", "继续", "Continue"),
    ("password_expired", "密码已过期，请设置新密码。", "The password has expired: set a new one."),
    ("reset_second_factor", "重置双因素", "Reset second factor"),
    ("shown_in_clear", "明文（已记录查看）", "In clear (the view is recorded)"),
    ("masked", "已脱敏", "Masked"),
    ("reveal_purpose", "查看原因", "Why"),
    ("reveal_in_clear", "查看明文", "Show in clear"),
    (
        "login_delayed",
        "登录失败次数过多，请稍后再试，可于此时间后重试：",
        "Too many failed sign-ins: try again after",
    ),
    ("rate_limited", "请求过于频繁，请稍后再试", "Too many attempts: wait a moment"),
    ("change_password", "修改密码", "Change password"),
    ("must_change", "这是一次性密码，请先设置新密码。", "This is a one-time password: set a new one first."),
    ("current_password", "当前密码", "Current password"),
    ("new_password", "新密码", "New password"),
    (
        "password_rules",
        "至少10位，包含大写、小写、数字、符号中的三类，不得包含工号。",
        "At least 10 characters of three kinds (lower, upper, digits, symbols), without your login.",
    ),
    ("save", "保存", "Save"),
    ("saved", "已保存", "Saved"),
    ("workbench", "工作台", "Workbench"),
    ("my_queue", "我的队列", "My queue"),
    (
        "queue_empty",
        "队列为空：没有分配给您的未结案件。",
        "The queue is empty: no open cases are assigned to you.",
    ),
    ("flag_hardship", "经济困难", "Hardship"),
    (
        "flag_hardship_say",
        "先了解困难、谈分期或减免，不施压、不催促一次还清。",
        "Hear the difficulty first and talk of a plan or a waiver; no pressure, no demand to pay all at once.",
    ),
    ("flag_anxious", "情绪焦虑", "Anxious"),
    (
        "flag_anxious_say",
        "语气平和，先安抚，再说金额和日期。",
        "Speak calmly, reassure first, then give the amount and the date.",
    ),
    ("flag_abusive", "曾有辱骂", "Abusive"),
    (
        "flag_abusive_say",
        "保持礼貌，不争辩；遭辱骂可礼貌结束通话并记录。",
        "Stay polite, do not argue; on abuse, end the call politely and note it.",
    ),
    ("step_identify", "1 核实身份", "1 Identify"),
    (
        "step_identify_say",
        "确认是本人后才说明来意；非本人不透露欠款。",
        "Say why you call only to the debtor in person; never tell anyone else of the debt.",
    ),
    ("step_notify", "2 告知", "2 Notify"),
    (
        "step_notify_say",
        "说明欠款金额、逾期天数和还款日，以及逾期的后果（如实、不夸大）。",
        "Give the amount, the days overdue, the due date, and the consequences (truly, without exaggeration).",
    ),
    ("step_reason", "3 询问原因", "3 Ask the reason"),
    (
        "step_reason_say",
        "问清未还款的原因：忘记、暂时困难还是有异议。",
        "Ask why it is unpaid: forgotten, a passing difficulty, or a dispute.",
    ),
    ("step_negotiate", "4 协商", "4 Negotiate"),
    (
        "step_negotiate_say",
        "约定还款日期和金额（承诺），困难时提出分期或减免申请。",
        "Agree a date and an amount (a promise); in hardship, propose a plan or a waiver.",
    ),
    ("count_of", "共", "In all"),
    ("your_authority", "您的权限", "Your authority"),
    ("no_waiver_authority", "您的角色无减免审批权限", "Your role approves no waivers"),
    ("second_above", "超过此金额需第二人审批", "A second approver above"),
    ("instalments_short", "期数", "instalments"),
    ("model_promoted", "已设为冠军模型", "Now the champion"),
    ("model_metrics", "指标", "Metrics"),
    ("promote", "设为冠军", "Make champion"),
    ("version", "版本", "Version"),
    ("unit_contacts", "次", "contacts"),
    ("unit_yuan", "元", "yuan"),
    ("recovered_trend", "每日回收", "Recovered by day"),
    ("unit_id", "编号", "Id"),
    ("rename", "改名", "Rename"),
    ("add_team", "新建团队", "Add a team"),
    ("add_agency", "新建委外机构", "Add an agency"),
    ("agencies", "委外机构", "Agencies"),
    ("members", "人数", "Members"),
    ("reject_reason", "驳回原因", "Reason to reject"),
    ("owed_now", "当前欠款", "Owed now"),
    ("yuan", "元", "yuan"),
    ("no_history", "此前无减免或分期申请。", "No earlier waiver or plan."),
    ("share_of_part", "占该部分", "Share of the part"),
    ("approval_level", "审批权限", "Approval level"),
    ("level_within", "在您的权限内", "Within your authority"),
    ("level_second", "需第二人审批", "Needs a second approver"),
    ("level_beyond", "超出您的权限", "Beyond your authority"),
    (
        "scripts_hint",
        "今日计划所用策略中的全部话术；案件页显示填入该案件数据后的话术。策略：",
        "Every script of the strategy of today's plan; a case's page shows its script filled with the case's figures. Strategy:",
    ),
    (
        "side_by_side_dropped",
        "并排最多打开 4 个案件，未打开：",
        "At most four cases open side by side; not opened:",
    ),
    ("page", "页", "Page"),
    ("search", "查找", "Find"),
    (
        "search_hint",
        "姓名、手机号、身份证号、案件号或卡号后四位",
        "Name, mobile, ID number, case or card's last four",
    ),
    (
        "search_none",
        "在您的范围内没有找到案件（姓名、号码须完整）。",
        "No case in your scope matches (names and numbers in full).",
    ),
    ("all", "全部", "All"),
    ("worked_today", "今日已联系", "Worked today"),
    ("not_yet", "未联系", "Not yet"),
    ("yes_worked", "已联系", "Worked"),
    ("planned_today", "今日计划内", "In today's plan"),
    ("min_overdue", "最低欠款（元）", "Owing at least (yuan)"),
    ("sort_by", "排序", "Sort"),
    ("sort_plan", "按计划", "By plan"),
    ("sort_overdue", "欠款从高到低", "Largest amount first"),
    ("sort_dpd", "逾期天数从长到短", "Longest overdue first"),
    ("apply", "筛选", "Apply"),
    ("clear", "清除条件", "Clear"),
    (
        "beyond_limit",
        "队列只列出最严重的 2,000 件；未列出：",
        "The queue lists the worst 2,000 cases; not listed:",
    ),
    ("times", "次", "times"),
    ("prev_page", "上一页", "Previous"),
    ("next_page", "下一页", "Next"),
    ("due_at", "到期", "Due"),
    ("planned", "今日计划", "Today's plan"),
    ("not_planned", "今日未计划", "Not planned today"),
    ("case", "案件", "Case"),
    ("debtor", "债务人", "Debtor"),
    ("bucket", "账龄", "Bucket"),
    ("dpd", "逾期天数", "Days past due"),
    ("overdue", "逾期金额", "Overdue"),
    ("channel", "渠道", "Channel"),
    ("window", "时段", "Window"),
    ("script", "话术", "Script"),
    ("arm", "实验组", "Arm"),
    ("open", "打开", "Open"),
    ("resident_id", "身份证号", "Resident ID"),
    ("address", "地址", "Address"),
    ("employer", "单位", "Employer"),
    ("assigned_to", "分配给", "Assigned to"),
    ("accounts", "账户", "Accounts"),
    ("card", "卡号", "Card"),
    ("balance", "余额", "Balance"),
    ("principal", "本金", "Principal"),
    ("interest", "利息", "Interest"),
    ("fees", "费用", "Fees"),
    ("late_fees", "滞纳金", "Late fees"),
    ("minimum", "最低还款", "Minimum"),
    ("contacts", "联系方式", "Contact points"),
    ("role", "角色", "Role"),
    ("relation", "关系", "Relation"),
    ("value", "号码", "Number"),
    ("status", "状态", "Status"),
    ("compliance", "合规状态", "Compliance"),
    ("can_call_now", "现在可以拨打", "Can call now"),
    ("dial", "拨打", "Dial"),
    ("robot_call", "机器人外呼", "Robot call"),
    ("robot_flow", "机器人流程", "Robot flow"),
    ("call", "通话", "Call"),
    ("call_ringing_agent", "正在呼叫您的话机", "Ringing your phone"),
    ("call_ringing_debtor", "正在呼叫客户", "Ringing the debtor"),
    ("call_talking", "通话中", "Talking"),
    ("call_ended", "通话结束", "Call ended"),
    ("hang_up", "挂断", "Hang up"),
    ("wrap_up", "通话小结", "Wrap-up"),
    ("recordings", "通话录音", "Recordings"),
    ("floor_board", "坐席看板", "Live board"),
    ("campaigns", "外呼任务", "Campaigns"),
    ("campaign_start", "启动外呼任务", "Start a campaign"),
    ("campaign_mode", "外呼模式", "Mode"),
    ("mode_preview", "预览式", "Preview"),
    ("mode_progressive", "渐进式", "Progressive"),
    ("mode_predictive", "预测式", "Predictive"),
    ("mode_robot", "机器人", "Robot"),
    ("campaign_pacer", "节奏算法", "Pacer"),
    ("pacer_daylight", "Daylight 呼损约束", "Daylight abandonment-constrained"),
    ("pacer_vicidial", "VICIdial ADAPT_HARD_LIMIT", "VICIdial ADAPT_HARD_LIMIT"),
    ("robot_lines", "机器人线路数", "Robot lines"),
    ("hopper", "待拨池", "Hopper"),
    ("dial_level", "拨号比", "Dial level"),
    ("calls_ringing", "振铃中", "Ringing"),
    ("calls_waiting", "等待坐席", "Waiting"),
    ("calls_placed", "已拨", "Placed"),
    ("calls_answered", "接通", "Answered"),
    ("calls_connected", "转坐席", "To collectors"),
    ("calls_abandoned", "呼损", "Abandoned"),
    ("calls_refused", "闸门拒绝", "Refused by the gate"),
    ("abandonment_rate", "呼损率", "Abandonment"),
    ("abandonment_limit", "上限", "limit"),
    ("braking", "已制动：每位空闲坐席一通", "Braking: one call per ready collector"),
    ("campaign_running", "运行中", "Running"),
    ("campaign_paused", "已暂停", "Paused"),
    ("campaign_stopped", "已结束", "Stopped"),
    ("campaign_pause", "暂停", "Pause"),
    ("campaign_resume", "继续", "Resume"),
    ("campaign_stop", "结束", "Stop"),
    ("next_contact", "下一个联系人", "Next contact"),
    ("no_next_contact", "待拨池中暂无闸门允许的联系人", "No contact the gate allows now is in the hopper"),
    ("no_campaigns", "暂无外呼任务", "No campaigns"),
    ("campaign_agents", "坐席", "Collectors"),
    (
        "campaign_hint",
        "待拨池只放当前闸门允许的今日计划联系人，每 5 秒复核；每次拨号仍过闸门。",
        "The hopper holds only today's planned contacts the gate allows now, re-checked every 5 s; every dial still passes the gate.",
    ),
    ("supervise_listen", "监听", "Listen"),
    ("supervise_whisper", "耳语", "Whisper"),
    ("supervise_barge", "强插", "Barge in"),
    ("supervise_end", "退出监听", "Leave"),
    ("force_hangup", "强拆", "Hang up"),
    ("calls_in", "来电记录", "Calls in"),
    ("in_answered", "已接听", "Answered"),
    ("in_missed", "未接", "Missed"),
    ("in_abandoned", "来电方挂断", "Caller hung up"),
    ("in_unmatched", "未匹配", "Unmatched"),
    ("in_interrupted", "通话中断", "Interrupted"),
    ("in_live", "进行中", "Live"),
    ("rec_inbound", "来电", "Call in"),
    ("play_recording", "听录音", "Listen"),
    ("my_state", "我的状态", "My state"),
    ("agent_offline", "离线", "Offline"),
    ("agent_ready", "示闲", "Ready"),
    ("agent_ringing", "振铃", "Ringing"),
    ("agent_talking", "通话中", "Talking"),
    ("agent_wrap_up", "话后处理", "Wrap-up"),
    ("agent_paused", "示忙", "Paused"),
    ("pause_break", "小休", "Break"),
    ("pause_meal", "用餐", "Meal"),
    ("pause_training", "培训", "Training"),
    ("pause_meeting", "会议", "Meeting"),
    ("pause_coaching", "辅导", "Coaching"),
    ("pause_admin", "事务处理", "Admin work"),
    ("calls_today", "今日外呼", "Calls today"),
    ("talk_today", "今日通话", "Talk today"),
    ("time_in_state", "状态时长", "Time in state"),
    ("wrapped_up", "已小结", "Wrapped up"),
    ("seconds", "秒", "s"),
    ("next_allowed", "下次允许", "Next allowed at"),
    ("never", "不可联系", "not allowed"),
    ("suggested", "建议动作", "Suggested action"),
    ("no_suggestion", "今日计划中没有此案件。", "Today's plan has no action for this case."),
    ("reasons", "理由", "Reasons"),
    ("log_contact", "登记联系结果", "Log a contact"),
    ("contact_point", "联系号码", "Contact point"),
    ("outcome", "结果", "Outcome"),
    ("note", "催记", "Note"),
    ("record", "登记", "Record"),
    ("recorded", "已登记", "Recorded"),
    ("promise", "承诺还款", "Promise to pay"),
    ("amount_yuan", "金额（元）", "Amount (yuan)"),
    ("due_date", "日期", "Date"),
    ("due_time", "时间", "Time"),
    ("lock_promise", "锁定承诺", "Lock promise"),
    ("pending_promises", "待兑现承诺", "Pending promises"),
    ("timeline", "时间线", "Timeline"),
    ("nothing_yet", "暂无记录", "Nothing yet"),
    ("denied", "合规网关拒绝", "Refused by the compliance gate"),
    ("next_case", "下一个案件", "Next case"),
    ("back_to_queue", "返回队列", "Back to queue"),
    ("shortcuts", "快捷键", "Shortcuts"),
    (
        "shortcut_help",
        "j/k 上下选择 · Enter 打开 · n 下一案件 · o 登记结果 · p 承诺 · g 队列 · ? 帮助",
        "j/k move · Enter open · n next case · o log outcome · p promise · g queue · ? help",
    ),
    ("users", "用户", "Users"),
    ("add_user", "新增用户", "Add user"),
    ("login", "工号", "Login"),
    ("name", "姓名", "Name"),
    ("mobile", "手机号", "Mobile"),
    ("team", "小组", "Team"),
    ("agency", "委外机构", "Agency"),
    ("one_time_password", "一次性密码（仅显示一次）", "One-time password (shown once)"),
    ("disabled", "已停用", "Disabled"),
    ("active", "正常", "Active"),
    ("must_change_short", "待改密", "Must change password"),
    ("cases", "案件", "Cases"),
    ("error", "出错了", "Something went wrong"),
    ("not_found", "未找到，或不在您的权限范围内。", "Not found, or not within what you may see."),
    ("forbidden", "您的角色无权执行此操作。", "Your role may not do this."),
    ("language", "English", "中文"),
    ("simulated_clock", "演示时钟", "Rehearsal clock"),
    ("repayment_plan", "分期还款方案", "Repayment plan"),
    ("total_yuan", "分期总额（元）", "Total (yuan)"),
    ("instalments", "期数（≤60）", "Instalments (≤ 60)"),
    ("fee_bp", "月费率（基点）", "Monthly fee (bp)"),
    ("first_due", "首期还款日", "First due"),
    ("calculate", "试算", "Calculate"),
    ("submit_for_approval", "提交审批", "Submit for approval"),
    ("instalment", "期次", "No."),
    ("amount", "金额", "Amount"),
    ("total_fees", "费用合计", "Fees in all"),
    ("total_due", "应还合计", "To repay in all"),
    ("approvals", "审批", "Approvals"),
    ("pending_plans", "待审批分期方案", "Plans waiting for approval"),
    ("proposed_by", "申请人", "Proposed by"),
    ("proposed_at", "申请时间", "Proposed at"),
    ("approve", "批准", "Approve"),
    ("reject", "驳回", "Reject"),
    ("adjusted", "待入账调整", "Not yet booked"),
    ("amend_promise", "修改承诺", "Amend"),
    ("cancel_promise", "取消承诺", "Cancel promise"),
    ("propose_number", "新增或更正号码", "Add or correct a number"),
    (
        "propose_number_hint",
        "号码经组长确认后才可拨打；来源须如实填写。",
        "A number is dialled only once a team lead confirms it; give its true source.",
    ),
    ("corrects", "更正", "Corrects"),
    ("new_number", "新号码", "New number"),
    ("owner", "号码归属", "Whose"),
    ("owner_name", "机主姓名", "Owner's name"),
    ("number", "号码", "Number"),
    ("pending_numbers", "待确认号码", "Numbers to confirm"),
    ("approved", "已批准", "approved"),
    (
        "approved_first",
        "已批准（第一审批人），待第二审批人",
        "approved (first approver): a second approver must approve too",
    ),
    ("rejected", "已驳回", "rejected"),
    ("no_approvals", "没有待审批的方案。", "Nothing is waiting for approval."),
    ("team_cases", "团队案件", "Team cases"),
    ("selected", "选中的案件", "Selected cases"),
    ("close_reason", "结案原因", "Reason for closing"),
    ("close_paid_in_full", "已全额结清", "Paid in full"),
    ("close_settled", "和解结清", "Settled"),
    ("close_written_off", "核销", "Written off"),
    ("close_deceased", "债务人身故", "Deceased"),
    ("close_dispute_upheld", "异议成立", "Dispute upheld"),
    ("close_placed", "转出", "Placed elsewhere"),
    ("close_legal", "转法务", "Legal"),
    ("close_note", "说明", "Note"),
    ("reopen_case", "重新开案", "Reopen the case"),
    ("days", "天", "days"),
    ("calendar_ends", "节假日日历将于此日结束：", "The holiday calendar ends on"),
    ("calendar_ended", "节假日日历已于此日结束：", "The holiday calendar ended on"),
    (
        "calendar_then_refuse",
        "之后所有受节假日规则约束的联系将被拒绝（CALENDAR_MISSING）",
        "after it every contact the holiday rule binds is refused (CALENDAR_MISSING)",
    ),
    (
        "calendar_then_provisional",
        "之后按临时日历判断（法定节日与周末休息，无调休），结论标记为临时",
        "after it a provisional year judges (statutory days and weekends off, no make-up days), marked provisional",
    ),
    ("calendar_add_year", "录入国务院放假通知", "Enter the State Council's notice"),
    ("add_year", "录入新年度放假安排", "Add a year's days off"),
    (
        "add_year_hint",
        "粘贴国务院办公厅通知的日期，先核对再生效；每次生效都记入证据链。格式与 cn-calendar.toml 相同：",
        "Paste the State Council notice's dates; check, then put in force; every change is a ledger event. The form of cn-calendar.toml:",
    ),
    ("check_year", "核对", "Check"),
    ("put_year_in_force", "加入策略包并生效", "Add to the pack and put in force"),
    ("statutory_day", "法定节日", "Statutory day"),
    ("entered_as", "录入结果", "As entered"),
    ("day_off", "放假", "Day off"),
    ("not_day_off", "未放假", "Not a day off"),
    ("reopen_note", "重开原因", "Why it reopens"),
    ("bulk_close", "批量结案", "Close selected"),
    ("reassign_to", "改派给", "Reassign to"),
    ("reassign", "改派", "Reassign"),
    ("export_csv", "导出 CSV", "Export CSV"),
    ("done_cases", "已处理案件数", "Cases done"),
    ("no_cases", "没有在催案件。", "No open cases."),
    ("dashboard", "团队看板", "Dashboard"),
    ("strategy", "策略", "Strategy"),
    ("policy", "合规策略包", "Compliance pack"),
    ("confirmed_until", "已确认，有效至", "Confirmed until"),
    ("confirmation", "第三方联系确认", "Confirmation"),
    ("third_party_reason", "联系理由", "Why"),
    ("ask_confirmation", "申请确认", "Ask to confirm"),
    ("waiver", "减免申请", "Waiver"),
    ("account", "账户", "Account"),
    ("component", "减免项目", "Part"),
    ("reason", "理由", "Reason"),
    ("complaint", "投诉登记", "Complaint"),
    ("source", "投诉来源", "From"),
    ("attempt", "关联通话", "Contact"),
    ("text", "内容", "Text"),
    ("register", "登记", "Register"),
    ("pending_waivers", "待审批减免", "Waivers to approve"),
    ("pending_third_party", "待确认第三方联系", "Third-party contacts to confirm"),
    (
        "third_party_hint",
        "确认后 24 小时内可联系该号码，且仍须符合合规策略包（如本人连续未接通）。",
        "A confirmation allows calls to that number for 24 hours, still within the pack's rules (the debtor unreachable first, say).",
    ),
    ("broken_promises", "待办：未兑现承诺、质检复核", "To do: broken promises, QC reviews"),
    ("qc", "质检", "QC"),
    ("time", "时间", "Time"),
    ("qc_calls", "已质检通话", "Analysed calls"),
    ("qc_call", "通话质检", "Call QC"),
    (
        "qc_hint",
        "每通通话的转写稿都经规则质检；坐席违规会生成团队长复核任务，债务人经济困难、焦虑、辱骂会给债务人打标并改变当日建议与次日计划。",
        "Every call's transcript is checked against the rules; an agent's breach opens a team lead's review, and a debtor's hardship, anxiety or abuse tags the debtor and changes today's suggestion and tomorrow's plan.",
    ),
    ("qc_rules", "质检规则", "QC rules"),
    ("severity", "严重程度", "Severity"),
    ("speaker", "说话人", "Speaker"),
    ("findings", "发现", "Findings"),
    ("no_findings", "未发现问题", "Nothing found"),
    ("heard_promise", "听到的承诺", "Promise heard"),
    ("transcript", "转写稿", "Transcript"),
    ("all_codes", "全部代码", "All codes"),
    ("filter", "筛选", "Filter"),
    ("linked_findings", "关联质检发现", "Linked findings"),
    ("lint", "质检检查", "QC lint"),
    ("lint_ok", "✓ 通过", "✓ Clean"),
    ("qc_today", "今日质检", "QC today"),
    ("open_call", "查看通话", "Open the call"),
    ("rules_version", "规则版本", "Rules version"),
    ("task", "任务", "Task"),
    ("mark_done", "已处理", "Done"),
    ("experiment_report", "实验报告", "Experiment report"),
    ("promise_due", "承诺到期", "Promise due"),
    ("promise_due_today", "今日到期或已逾期", "Due today or past due"),
    ("no_promise_due", "无到期承诺", "None due"),
    ("callable", "现在可拨", "Callable now"),
    ("callable_now", "现在可拨", "callable now"),
    ("not_callable_now", "现在不可拨", "not callable now"),
    ("strategy_editor", "编辑策略", "Edit the strategy"),
    ("strategy_saved", "已保存为新版本", "Saved as version"),
    ("strategy_reads", "检查通过", "It reads and QC passes it"),
    ("strategy_problems", "检查未通过，问题数：", "Problems found:"),
    ("strategy_note", "修改说明", "Note"),
    ("strategy_check", "检查", "Check"),
    ("strategy_save", "检查并保存", "Check and save"),
    (
        "strategy_editor_hint",
        "保存前先检查：文档可读（错误标出行列），质检规则不标记任何话术。保存后，未指定策略文件的每日计划使用最新版本：",
        "Each save is checked first: the document reads (errors name the line and column) and QC flags no script. Plans made without --strategy then use the latest version:",
    ),
    ("flows", "机器人流程", "Robot flows"),
    ("line", "行", "line"),
    ("scripts", "话术", "Scripts"),
    ("column", "列", "column"),
    ("customers", "客户数", "Customers"),
    ("recovered_per_customer", "户均回款（元，95% 区间）", "Recovered per customer (yuan, 95 % interval)"),
    ("yuan_per_customer", "元/户", "yuan per customer"),
    ("contact_rate_t1", "T+1 接通率（95% 区间）", "T+1 contact rate (95 % interval)"),
    ("cost_per_customer", "户均成本（元）", "Cost per customer (yuan)"),
    ("complaints_per_10k", "每万次接触投诉", "Complaints per 10k contacts"),
    ("not_recorded", "未记录", "not recorded"),
    ("report_window", "统计区间", "Window"),
    ("from_day", "开始日期", "From"),
    ("until_day", "结束日期（不含）", "Until (not included)"),
    ("p_against", "p 值相对于", "p-values against"),
    ("interval_95", "95% 区间", "95 % interval"),
    ("below_sample_size", "样本不足：每组需要", "Below the sample size: each arm needs"),
    (
        "experiment_method",
        "每位客户按稳定哈希固定在一个组内，无论是否被联系都计入该组（意向性分析）。比率为 Wilson 区间，金额为正态近似区间；p < 0.05 加粗。",
        "Each customer stays in one arm by a stable hash and counts in it whether contacted or not (intention to treat). Rates have Wilson intervals, amounts normal-approximation intervals; p < 0.05 in bold.",
    ),
    ("open_report", "查看报告", "Report"),
    ("task_reason", "理由（判定成立、申诉、驳回时必填）", "Reason (required to uphold, appeal or refuse)"),
    ("task_close", "提交", "Submit"),
    ("task_open", "待处理", "To do"),
    ("qc_appeals", "待裁定的质检申诉", "QC appeals to decide"),
    ("appeal_reason", "申诉理由", "Grounds of appeal"),
    ("qc_review_steps", "复核记录", "Review"),
    ("no_tasks", "没有待处理任务。", "No tasks."),
    ("my_tasks", "我的待办", "My tasks"),
    ("open_side_by_side", "并排打开所选案件", "Open selected side by side"),
    ("side_by_side_hint", "最多 4 个案件", "up to 4 cases"),
    ("side_by_side", "并排查看", "Side by side"),
    ("group_by", "分组", "Group by"),
    ("period", "期间", "Period"),
    ("period_today", "今天", "Today"),
    ("period_7d", "近 7 天", "Last 7 days"),
    ("period_30d", "近 30 天", "Last 30 days"),
    ("show", "显示", "Show"),
    ("attempts", "联系次数", "Attempts"),
    ("contact_rate", "接通率", "Contact rate"),
    ("rpc", "本人有效沟通", "Right-party contacts"),
    ("rpc_rate", "本人沟通率", "RPC rate"),
    ("promises", "承诺还款", "Promises"),
    ("ptp_rate", "承诺率", "PTP rate"),
    ("promised", "承诺金额", "Promised"),
    ("kept_rate", "兑现率", "Kept rate"),
    ("recovered", "回款金额", "Recovered"),
    ("roll_rate", "迁徙率", "Roll rate"),
    ("complaints", "投诉", "Complaints"),
    ("total", "合计", "Total"),
    ("kpi_trend", "每日趋势", "Day by day"),
    ("top", "前", "top"),
    (
        "kpi_definitions",
        "接通率 = 接通人数 ÷ 联系次数；本人沟通率 = 本人有效沟通 ÷ 联系次数；承诺率 = 承诺 ÷ 本人有效沟通；兑现率 = 兑现 ÷（兑现 + 未兑现）；迁徙率 = 迁入更差账龄的账户 ÷ 账户数。按案件当前归属统计，每 60 秒刷新。",
        "Contact rate = people reached ÷ attempts; RPC rate = right-party contacts ÷ attempts; PTP rate = promises ÷ RPC; kept rate = kept ÷ (kept + broken); roll rate = accounts rolled to a worse bucket ÷ accounts. Grouped by each case's owner now; refreshes every 60 s.",
    ),
    ("edit", "修改", "Edit"),
    ("teams", "团队", "Teams"),
    ("team_leads", "组长", "Team leads"),
    ("collectors", "组员", "Members"),
    (
        "teams_hint",
        "团队须先在此新建；在用户上选择团队即加入该团队。",
        "Add a team here first; choose it on a user to put them in it.",
    ),
    ("pack_in_force", "已生效", "In force"),
    (
        "pack_ledger_hint",
        "每次变更都记入存证账本（config.changed）。",
        "Every change is a ledger event (config.changed).",
    ),
    ("last_change", "最近变更", "last changed"),
    ("calling_hours", "允许联系时段", "Calling hours"),
    ("daily_cap", "每日上限", "Daily cap"),
    ("cycle_cap", "周期上限", "Cycle cap"),
    ("third_party_confirmation", "第三方联系需确认", "Third parties need confirmation"),
    ("yes", "是", "yes"),
    ("no", "否", "no"),
    ("shipped_packs", "内置策略包", "Shipped packs"),
    ("put_in_force", "设为生效", "Put in force"),
    ("rules", "规则", "Rules"),
    ("code", "代码", "Code"),
    ("rule", "规则", "Rule"),
    ("citation", "依据", "Source"),
    ("parameters", "参数（TOML）", "Parameters (TOML)"),
    (
        "pack_edit_hint",
        "保存前校验；有误时指出行与列，原策略包不变。",
        "Checked before it is saved; an error names the line and column and the pack in force stays.",
    ),
    ("calendar", "法定节假日日历", "Holiday calendar"),
    ("days_off", "天休息", "days off"),
    ("workdays", "调休上班", "make-up workdays"),
    (
        "calendar_hint",
        "新的一年：在策略包的以下部分加入国务院通知的日期：",
        "A new year: add the State Council notice's dates to the pack under",
    ),
    (
        "strategy_hint",
        "策略是一个 TOML 文件。命令行校验、按它制定计划、创建实验：",
        "A strategy is a TOML file. On the command line, check it, plan with it, create an experiment:",
    ),
    ("script_library", "话术库", "Script library"),
    ("tone", "语气", "Tone"),
    ("ladders", "渠道阶梯", "Channel ladders"),
    ("experiments", "实验", "Experiments"),
    ("arms", "分组", "Arms"),
    ("created", "创建", "Created"),
    ("plans", "每日计划", "Daily plans"),
    ("date", "日期", "Date"),
    ("actions", "动作数", "Actions"),
    ("models", "模型", "Models"),
    ("salt", "盐", "Salt"),
    ("create_experiment", "创建实验", "Create experiment"),
    ("experiment_created", "已创建实验", "Experiment created"),
    (
        "experiment_hint",
        "分组与盐创建后不可更改，每位客户始终在同一组。按实验分组制定计划：",
        "Arms and salt never change once created, so every customer keeps their arm. To plan by it:",
    ),
];

/// The word for `key` in `lang`; an unknown key shows as itself (and a test catches it).
pub fn t(lang: Lang, key: &str) -> &str {
    match WORDS.iter().find(|(k, _, _)| *k == key) {
        Some((_, zh, en)) => match lang {
            Lang::Zh => zh,
            Lang::En => en,
        },
        None => key,
    }
}

/// Whether the catalogue has `key`.
pub fn has(key: &str) -> bool {
    WORDS.iter().any(|(k, _, _)| *k == key)
}

/// A vocabulary code in words: contact roles and statuses, case statuses, channels,
/// recipients. Unknown codes show as themselves.
pub fn word(lang: Lang, code: &str) -> String {
    let zh = match code {
        "debtor" => "本人",
        "guarantor" => "担保人",
        "emergency_contact" => "紧急联系人",
        "relative" => "亲属",
        "colleague" => "同事",
        "other" => "其他",
        "third_party" => "第三方",
        "valid" => "有效",
        "invalid" => "无效",
        "unknown" => "未知",
        "suspended" => "停机",
        "powered_off" => "关机",
        "open" => "在催",
        "closed" => "已结案",
        "legal" => "诉讼",
        "written_off" => "已核销",
        "call" => "电话",
        "robot_call" => "机器人外呼",
        "sms" => "短信",
        "email" => "邮件",
        "letter" => "信函",
        "visit" => "外访",
        "agency" => "委外",
        "attempt" => "联系",
        "note" => "催记",
        "promise" => "承诺",
        "payment" => "还款",
        "bucket" => "账龄变化",
        "arrangement" => "分期方案",
        "waiver" => "减免",
        "principal" => "本金",
        "interest" => "利息",
        "fees" => "费用",
        "late_fees" => "滞纳金",
        "bank" => "银行",
        "regulator" => "监管",
        "requested" => "待审批",
        "proposed" => "待审批",
        "broken" => "未兑现",
        "completed" => "已完成",
        "cancelled" => "已取消",
        "number_debtor" => "本人提供",
        "number_third_party" => "第三方提供",
        "number_bank" => "银行更新",
        "number_repair" => "信息修复",
        "number_field" => "外访/信函",
        "approved" => "已批准",
        "rejected" => "已驳回",
        "expired" => "已过期",
        "promise_reminder" => "承诺到期提醒",
        "promise_broken" => "承诺未兑现",
        "qc_review" => "质检复核",
        "qc_finding" => "质检结论待确认",
        "phone" => "电话",
        "address" => "地址",
        "qc_appeal" => "质检申诉",
        "upheld" => "违规成立",
        "dismissed" => "违规不成立",
        "accepted" => "接受",
        "appealed" => "申诉",
        "granted" => "申诉成立",
        "refused" => "申诉驳回",
        "info" => "提示",
        "minor" => "轻微",
        "major" => "严重",
        "critical" => "红线",
        "agent" => "坐席",
        "anxious" => "焦虑",
        "hardship" => "经济困难",
        "abusive" => "辱骂",
        "collector" => "催收员",
        "team" => "团队",
        "reminder" => "提醒",
        "soothing" => "安抚",
        "firm" => "严肃",
        "education" => "教育",
        "negotiation" => "协商",
        "legal_notice" => "法务告知",
        "champion" => "冠军",
        "none" => "无",
        "pending" => "待兑现",
        "kept" => "已兑现",
        "paid_in_full" => "已全额还清",
        "settled" => "和解结清",
        "deceased" => "债务人身故",
        "dispute_upheld" => "异议成立",
        "placed" => "已委外",
        "bank_transfer" => "银行转账",
        "app" => "手机银行",
        "counter" => "柜台",
        "auto_debit" => "自动扣款",
        "challenger" => "挑战者",
        "holdout" => "留存对照组",
        "retired" => "已退役",
        _ => return code.replace('_', " "),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => code.strip_prefix("number_").unwrap_or(code).replace('_', " "),
    }
}

/// An exported table's column in words: `overdue_yuan` → 逾期金额（元） / Overdue (yuan).
/// Unknown columns show as themselves (the crawl test downloads every table).
pub fn column(lang: Lang, key: &str) -> String {
    let (zh, en) = match key {
        "case" => ("案件", "Case"),
        "debtor" => ("债务人", "Debtor"),
        "bucket" => ("账龄", "Bucket"),
        "dpd" => ("逾期天数", "Days past due"),
        "overdue_yuan" => ("逾期金额（元）", "Overdue (yuan)"),
        "collector" => ("催收员", "Collector"),
        "team" => ("小组", "Team"),
        "agency" => ("委外机构", "Agency"),
        "cases" => ("案件数", "Cases"),
        "accounts" => ("账户数", "Accounts"),
        "attempts" => ("联系次数", "Attempts"),
        "contacts" => ("接通次数", "Contacts"),
        "rpc" => ("本人有效沟通", "Right-party contacts"),
        "promises" => ("承诺数", "Promises"),
        "promised_yuan" => ("承诺金额（元）", "Promised (yuan)"),
        "kept" => ("已兑现", "Kept"),
        "broken" => ("未兑现", "Broken"),
        "recovered_yuan" => ("回款金额（元）", "Recovered (yuan)"),
        "rolled" => ("迁徙账户", "Rolled"),
        "exposed" => ("期初账户", "Exposed"),
        "complaints" => ("投诉", "Complaints"),
        "contact_rate" => ("接通率", "Contact rate"),
        "rpc_rate" => ("本人沟通率", "RPC rate"),
        "ptp_rate" => ("承诺率", "PTP rate"),
        "kept_rate" => ("兑现率", "Kept rate"),
        "roll_rate" => ("迁徙率", "Roll rate"),
        "plan" => ("分期申请", "Plan"),
        "proposed_by" => ("申请人", "Proposed by"),
        "proposed_at" => ("申请时间", "Proposed at"),
        "total_yuan" => ("总额（元）", "Total (yuan)"),
        "instalments" => ("期数", "Instalments"),
        "monthly_fee_bp" => ("月费率（基点）", "Monthly fee (bp)"),
        "first_due" => ("首期还款日", "First due"),
        "waiver" => ("减免申请", "Waiver"),
        "account" => ("账户", "Account"),
        "component" => ("减免项目", "Component"),
        "amount_yuan" => ("金额（元）", "Amount (yuan)"),
        "reason" => ("理由", "Reason"),
        "requested_by" => ("申请人", "Requested by"),
        "requested_at" => ("申请时间", "Requested at"),
        "request" => ("申请", "Request"),
        "contact_point" => ("联系方式", "Contact point"),
        "task" => ("任务", "Task"),
        "kind" => ("类型", "Kind"),
        "promise" => ("承诺", "Promise"),
        "due_at" => ("到期时间", "Due at"),
        "login" => ("登录名", "Login"),
        "name" => ("姓名", "Name"),
        "role" => ("角色", "Role"),
        "disabled" => ("已停用", "Disabled"),
        "last_password_set" => ("密码设置时间", "Password set"),
        _ => return key.to_owned(),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// Every catalogue entry's Chinese words (a test of the English console looks for them).
pub fn zh_words() -> Vec<&'static str> {
    WORDS.iter().map(|(_, zh, _)| *zh).collect()
}

/// A planner's reason (`CODE: detail`, as the strategy engine writes it) in the reader's
/// language: the code in words and the detail's figures kept. English is the planner's own
/// text; a reason this does not know stays as written.
pub fn reason(lang: Lang, text: &str) -> String {
    if lang == Lang::En {
        let mut out = text.to_owned();
        for (code, words) in [
            ("willing_able", "willing and able"),
            ("willing_unable", "willing, unable"),
            ("able_unwilling", "able, unwilling"),
            ("unwilling_unable", "unwilling and unable"),
            ("robot_call", "robot call"),
            ("QC_HARDSHIP: ", "Hardship (QC): "),
            ("EXTREME_CONTACT_RATE: ", "Extreme contact rate: "),
            ("QC_ANXIOUS: ", "Anxiety (QC): "),
            ("QC_ABUSIVE: ", "Abuse (QC): "),
            ("ABILITY_LOW: ", "Low ability to pay: "),
            ("WILLINGNESS_LOW: ", "Low willingness to pay: "),
        ] {
            out = out.replace(code, words);
        }
        return out;
    }
    if let Some(rest) = text.strip_prefix("P(connect) ") {
        // "P(connect) 0.500 at 2026-03-03T02:00:00Z": the slot's chance of an answer.
        let (p, at) = rest.split_once(" at ").unwrap_or((rest, ""));
        let at = at.parse::<jiff::Timestamp>().map_or_else(|_| at.to_owned(), crate::work::local_full);
        return format!("接通概率 {p}（{at} 时段）");
    }
    let Some((code, detail)) = text.split_once(": ") else {
        return text.to_owned();
    };
    // The figures of a detail, in order ("2 % over 40 dials" → ["2", "40"]).
    let figures: Vec<&str> = detail
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|f| !f.is_empty() && f.chars().any(|c| c.is_ascii_digit()))
        .collect();
    let fig = |i: usize| figures.get(i).copied().unwrap_or("?").to_owned();
    // A script or ladder id at the end of a detail.
    let last_word = detail.rsplit(' ').next().unwrap_or_default();
    match code {
        "SEGMENT" => {
            let parts: Vec<&str> = detail.split(", ").collect();
            let mut head = parts.first().copied().unwrap_or_default().split(' ');
            let bucket = head.next().unwrap_or_default();
            let band = match head.next().unwrap_or_default() {
                "small" => "小额",
                "medium" => "中额",
                "large" => "大额",
                other => other,
            };
            let risk = match parts.get(1).copied().unwrap_or_default() {
                "low risk" => "低风险",
                "medium risk" => "中风险",
                "high risk" => "高风险",
                other => other,
            };
            let quadrant = match parts.get(2).copied().unwrap_or_default() {
                "willing_able" => "有意愿、有能力（多为忘记还款）",
                "willing_unable" => "有意愿、暂无能力",
                "able_unwilling" => "有能力、无意愿",
                "unwilling_unable" => "无意愿、无能力",
                other => other,
            };
            let propensity = parts
                .get(3)
                .and_then(|p| p.strip_prefix("propensity "))
                .map(|p| format!("，还款倾向 {p}"))
                .unwrap_or_default();
            format!("客户分群：{bucket}，{band}，{risk}，{quadrant}{propensity}")
        }
        "ABILITY_LOW" => format!("还款能力偏低：还款倾向 {} 低于 {}", fig(0), fig(1)),
        "WILLINGNESS_LOW" if detail.contains("broken promises") => {
            format!("还款意愿偏低：{} 次承诺未兑现", fig(0))
        }
        "WILLINGNESS_LOW" => format!("还款意愿偏低：已通话 {} 次，无承诺，90 天内无还款", fig(0)),
        "HARDSHIP" => "经济困难：转入协商，暂停施压话术".to_owned(),
        "ABUSIVE" => "曾有辱骂：调整联系渠道组合".to_owned(),
        "ANXIOUS" => "情绪焦虑：先用安抚话术".to_owned(),
        "EXTREME_CONTACT_RATE" => {
            format!("接通率异常：{} 次拨打接通率 {}%，不按模型择时", fig(1), fig(0))
        }
        "FALLBACK" => format!("备选方案：当日第 {} 个备选", fig(0)),
        "LADDER" => format!("催收阶梯：{detail}"),
        "STEP" => {
            let channel = detail.split(' ').next().unwrap_or_default();
            format!("阶梯步骤：逾期第 {} 天起{}", fig(0), word(lang, channel))
        }
        "SELECTION" if detail.starts_with("explored") => {
            format!("方案选择：探索（汤普森抽样），还款概率 {}", fig(0))
        }
        "SELECTION" if detail.starts_with("highest") => {
            format!("方案选择：预期回收最高，还款概率 {}", fig(0))
        }
        "SELECTION" => "方案选择：按阶梯顺序".to_owned(),
        "TIME" if detail.starts_with("best") => "联系时间：合规时段中接通概率最高者".to_owned(),
        "TIME" => "联系时间：未按模型择时".to_owned(),
        "QC_ABUSIVE" => "质检：今日通话中有辱骂，已标记客户，下次计划调整渠道".to_owned(),
        "QC_ANXIOUS" => format!("质检：今日通话中客户焦虑，改用安抚话术 {last_word}"),
        "QC_HARDSHIP" if detail.contains("negotiation script") && !detail.contains("no negotiation") => {
            format!("质检：今日通话中听到经济困难，暂停施压，改用协商话术 {last_word}")
        }
        "QC_HARDSHIP" if detail.contains("no negotiation") => {
            "质检：今日通话中听到经济困难，暂停施压（本渠道无协商话术）".to_owned()
        }
        "QC_HARDSHIP" => "质检：今日通话中听到经济困难，计划话术非施压话术，照常使用".to_owned(),
        _ => text.to_owned(),
    }
}

/// A refusal in the reader's language: the field and what was wrong, by the error's stable code
/// (Chinese: the code's words, the English message when the code is not in the catalogue).
pub fn error(lang: Lang, field: Option<&str>, code: &str, message: &str) -> String {
    if lang == Lang::En {
        return match field {
            Some(f) if !f.is_empty() => format!("{f}: {message}"),
            _ => message.to_owned(),
        };
    }
    let what = match code {
        "REQUIRED" => "必填",
        "TOO_LONG" => "过长",
        "ENUM" => "不是可选的值",
        "INTEGER" => "须为整数",
        "AMOUNT" | "AMOUNT_FORMAT" => "金额格式不对（如 5000 或 5000.50）",
        "AMOUNT_RANGE" => "金额超出允许范围",
        "DATE_FORMAT" => "日期格式不对（YYYY-MM-DD）",
        "DATETIME_FORMAT" => "时间格式不对",
        "PHONE_FORMAT" => "号码格式不对（手机号或带区号的座机）",
        "ID_FORMAT" => "编号格式不对（1–32 位字母、数字、- 或 _）",
        "EXISTS" => "已存在",
        "UNKNOWN_RECORD" => "不在记录中，请先新建",
        "INCONSISTENT" => "与其他字段的组合不允许",
        "TEXT_CHARACTER" => "含有不允许的控制或隐藏字符",
        "SELF_APPROVAL" => "不能审批自己提交的申请",
        "WAIVER_AUTHORITY" => "超出您的减免审批权限",
        "PROMISE_OVER_OWED" => "承诺金额超过欠款",
        "PROMISE_PENDING" => "该账户已有待兑现的承诺",
        "PLAN_TOTAL" => "分期总额须等于当前欠款",
        "PLAN_FIRST_DUE" => "首期日期超出政策允许的天数",
        "ARRANGEMENT" => "分期条件不符合政策",
        "TRANSITION" => "当前状态下不能这样变更",
        "CASE_CLOSED" => "案件已结案",
        "CASE_OWES" => "案件仍有欠款，不能按全额还清结案",
        "SELF_LOCKOUT" => "不能取消自己的管理员权限或停用自己",
        "PASSWORD_WEAK" => "密码不够强（至少 12 位，含大小写字母和其他字符）",
        "PASSWORD_REUSED" => "不能与最近使用过的密码相同",
        "NOT_FOUND" => "不存在或不在您的范围内",
        "FORBIDDEN" => "您的角色不能执行此操作",
        "DATE_RANGE" => "时间区间不对（开始须早于结束）",
        "QC_LINT" => "质检规则标记了话术中的用语",
        "STRATEGY_TOML" => "策略文档不是有效的 TOML 或含未知键",
        "STRATEGY_INVALID" => "策略取值越界或引用不存在",
        "INVALID_FIELD" => "格式不对",
        _ => {
            return format!(
                "{}{message}",
                field.map(|f| format!("{}：", field_words(f))).unwrap_or_default()
            );
        }
    };
    match field {
        Some(f) if !f.is_empty() => format!("{}：{what}", field_words(f)),
        _ => what.to_owned(),
    }
}

/// A form field's name in Chinese (the field itself when not in the catalogue).
fn field_words(field: &str) -> String {
    match field {
        "team" => "团队",
        "agency" => "委外机构",
        "role" => "角色",
        "name" => "姓名",
        "mobile" => "手机号",
        "login" => "工号",
        "amount" => "金额",
        "reason" => "原因",
        "bucket" => "账龄",
        "sort" => "排序",
        "min_overdue" => "最低欠款",
        "worked" => "今日已联系",
        "planned" => "今日计划",
        "instalments" => "期数",
        "first_due" => "首期日期",
        "monthly_fee_bp" => "月费率",
        "total" => "总额",
        "date" => "日期",
        "time" => "时间",
        "component" => "减免项",
        "number" => "号码",
        "note" => "备注",
        "text" => "内容",
        "id" => "编号",
        "kind" => "类别",
        "outcome" => "结果",
        "contact_point" => "联系方式",
        "new_password" => "新密码",
        "current_password" => "当前密码",
        "source" => "来源",
        "attempt" => "关联通话",
        other => other,
    }
    .to_owned()
}

/// A compliance rule's code in words (the pack's own texts say what it forbids in full).
pub fn rule(lang: Lang, code: &str) -> String {
    let (zh, en) = match code {
        "HOURS" => ("非联系时段", "outside calling hours"),
        "HOLIDAY" => ("法定节假日", "statutory holiday"),
        "DAILY_CAP" => ("当日呼叫次数已满", "the day's calls are used"),
        "CYCLE_CAP" => ("本周期呼叫次数已满", "the cycle's calls are used"),
        "UNANSWERED_CAP" => ("该号码当日未接次数已满", "the number's unanswered calls today are used"),
        "CONVERSATION_CAP" => ("当日通话次数已满", "the day's conversations are used"),
        "SEVEN_IN_SEVEN" => ("七日内呼叫次数已满", "seven calls in seven days"),
        "AFTER_CONVERSATION" => ("通话后冷静期", "the pause after a conversation"),
        "ABANDONED_REDIAL" => ("呼损后禁止自动重拨", "no unattended redial after an abandoned call"),
        "THIRD_PARTY" => ("联系第三方须组长确认", "a third party needs the lead's confirmation"),
        "CEASE" => ("债务人要求停止联系", "the debtor asked us to stop"),
        "OPT_OUT" => ("已拒绝该渠道", "opted out of the channel"),
        "CALENDAR_MISSING" => ("节假日日历未覆盖该日", "the calendar does not cover the day"),
        "CASE_CLOSED" => ("案件已结案", "the case is closed"),
        "NUMBER_INVALID" => ("空号或非本人号码", "the number is not valid (空号) or not theirs"),
        "NUMBER_SUSPENDED" => ("号码已停机", "the number is suspended"),
        "NUMBER_POWERED_OFF" => ("今日已关机", "switched off earlier today"),
        "STRATEGY_TOML" => {
            ("策略文档不是有效的 TOML 或含未知键", "not TOML, or a key the format does not have")
        }
        "STRATEGY_INVALID" => ("策略取值越界或引用不存在", "a value out of range, or a reference to nothing"),
        _ => (code, code),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// Outcomes in words, by code.
pub fn outcome(lang: Lang, code: &str) -> String {
    let zh = match code {
        "no_answer" => "无人接听",
        "busy" => "占线",
        "not_connected" => "未接通",
        "invalid_number" => "空号",
        "powered_off" => "关机",
        "suspended" => "停机",
        "voicemail" => "语音信箱",
        "conversation" => "有效沟通",
        "promise_to_pay" => "承诺还款",
        "refused" => "拒绝还款",
        "hardship" => "经济困难",
        "dispute" => "有异议",
        "abusive" => "辱骂",
        "cease_request" => "要求停止联系",
        "third_party_answered" => "第三方接听",
        "wrong_number" => "号码错误",
        "interrupted" => "通话中断",
        "abandoned" => "呼损（无坐席）",
        "delivered" => "已送达",
        "undelivered" => "未送达",
        "sent" => "已发出",
        "visited" => "已外访",
        "not_home" => "外访未遇",
        _ => code,
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => code.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_by_a_template_is_in_the_catalogue() {
        let templates = [
            include_str!("../../templates/base.html"),
            include_str!("../../templates/login.html"),
            include_str!("../../templates/password.html"),
            include_str!("../../templates/second_factor.html"),
            include_str!("../../templates/security.html"),
            include_str!("../../templates/workbench.html"),
            include_str!("../../templates/case.html"),
            include_str!("../../templates/users.html"),
            include_str!("../../templates/campaigns.html"),
            include_str!("../../templates/approvals.html"),
            include_str!("../../templates/quote.html"),
            include_str!("../../templates/team.html"),
            include_str!("../../templates/error.html"),
            include_str!("../../templates/kpi.html"),
            include_str!("../../templates/side.html"),
            include_str!("../../templates/policy.html"),
            include_str!("../../templates/strategy.html"),
            include_str!("../../templates/call.html"),
            include_str!("../../templates/board.html"),
            include_str!("../../templates/scripts.html"),
        ];
        let mut missing = Vec::new();
        for text in templates {
            for quote in ['"', '\''] {
                for part in text.split(&format!("t({quote}")).skip(1) {
                    let key = &part[..part.find(quote).unwrap()];
                    // A prefix the template completes (`t("period_" ~ p)`) is checked below.
                    let built = part[key.len() + 1..].trim_start().starts_with('~');
                    if !built && !has(key) {
                        missing.push(key.to_owned());
                    }
                }
            }
        }
        // Keys a template builds: t("period_" ~ p).
        for p in ["today", "7d", "30d"] {
            if !has(&format!("period_{p}")) {
                missing.push(format!("period_{p}"));
            }
        }
        // t("call_" ~ phase), t("agent_" ~ state), t("pause_" ~ reason), t("supervise_" ~ mode).
        for o in ["answered", "missed", "abandoned", "unmatched", "interrupted", "live"] {
            if !has(&format!("in_{o}")) {
                missing.push(format!("in_{o}"));
            }
        }
        for m in ["listen", "whisper", "barge", "end"] {
            if !has(&format!("supervise_{m}")) {
                missing.push(format!("supervise_{m}"));
            }
        }
        let built =
            ["ringing_agent", "ringing_debtor", "talking", "ended"].map(|p| format!("call_{p}")).into_iter();
        let built = built
            .chain(daylight_domain::agent::AgentState::ALL.iter().map(|s| format!("agent_{s}")))
            .chain(daylight_domain::agent::PauseReason::ALL.iter().map(|r| format!("pause_{r}")))
            .chain(
                ["hardship", "anxious", "abusive"]
                    .iter()
                    .flat_map(|f| [format!("flag_{f}"), format!("flag_{f}_say")]),
            );
        missing.extend(built.filter(|k| !has(k)));
        assert!(missing.is_empty(), "keys without words: {missing:?}");
        let mut keys: Vec<_> = WORDS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), WORDS.len(), "a key is listed twice");
    }

    #[test]
    fn refusals_read_in_the_readers_language() {
        assert_eq!(
            error(Lang::Zh, Some("team"), "UNKNOWN_RECORD", "team: no team \"T01\" on record"),
            "团队：不在记录中，请先新建"
        );
        assert_eq!(
            error(Lang::En, Some("team"), "UNKNOWN_RECORD", "no team on record"),
            "team: no team on record"
        );
        assert_eq!(
            error(Lang::Zh, Some("agency"), "NEW_CODE", "an agency collector needs an agency"),
            "委外机构：an agency collector needs an agency"
        );
        assert_eq!(error(Lang::Zh, None, "REQUIRED", "x"), "必填");
    }

    #[test]
    fn the_planners_reasons_read_in_chinese_with_their_figures() {
        let zh = |r: &str| reason(Lang::Zh, r);
        assert_eq!(
            zh("SEGMENT: M6+ large, high risk, able_unwilling, propensity 0.12"),
            "客户分群：M6+，大额，高风险，有能力、无意愿，还款倾向 0.12"
        );
        assert_eq!(zh("WILLINGNESS_LOW: 3 broken promises"), "还款意愿偏低：3 次承诺未兑现");
        assert_eq!(
            zh("EXTREME_CONTACT_RATE: 2 % over 40 dials; exempt from model-driven timing"),
            "接通率异常：40 次拨打接通率 2%，不按模型择时"
        );
        assert_eq!(zh("STEP: call from day 1"), "阶梯步骤：逾期第 1 天起电话");
        assert_eq!(zh("ABILITY_LOW: propensity 0.08 below 0.2"), "还款能力偏低：还款倾向 0.08 低于 0.2");
        assert_eq!(
            zh("QC_ANXIOUS: the debtor was anxious on today's call; soothing script call-soothing"),
            "质检：今日通话中客户焦虑，改用安抚话术 call-soothing"
        );
        assert_eq!(
            zh("SELECTION: highest expected repayment, P(pay) 0.412"),
            "方案选择：预期回收最高，还款概率 0.412"
        );
        // English is the planner's own with its codes in words; an unknown reason stays as written.
        assert_eq!(reason(Lang::En, "LADDER: m1"), "LADDER: m1");
        assert_eq!(
            reason(Lang::En, "SEGMENT: M1 medium, low risk, willing_able"),
            "SEGMENT: M1 medium, low risk, willing and able"
        );
        assert_eq!(zh("NEW_CODE: something"), "NEW_CODE: something");
        assert_eq!(zh("P(connect) 0.500 at 2026-03-03T02:00:00Z"), "接通概率 0.500（2026-03-03 10:00 时段）");
    }
}
