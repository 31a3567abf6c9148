//! Policy packs: the rules a bank collects under, as TOML a bank can copy and change.
//!
//! A pack is read into raw structures that reject unknown keys, then validated into [`Pack`],
//! whose rules carry their texts (zh-CN and English) and citations ready for every decision.

use std::fmt::Write as _;
use std::sync::Arc;

use daylight_domain::attempt::{Channel, Outcome};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::calendar::{Calendar, RawYear};
use crate::error::PolicyError;

/// The rules, by stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Contact only within local hours.
    Hours,
    /// No contact on a statutory holiday day off.
    Holiday,
    /// Call attempts per debtor (or guarantor) per day.
    DailyCap,
    /// Call attempts per debtor (or guarantor) per cycle.
    CycleCap,
    /// Failed call attempts per contact point per day.
    UnansweredCap,
    /// Conversations per debtor per day.
    ConversationCap,
    /// Counted call attempts per debt in seven days.
    SevenInSeven,
    /// No call in the days after a conversation.
    AfterConversation,
    /// No unattended call (a robot's, a predictive dialler's) to a number whose call was
    /// abandoned within the pack's hours.
    AbandonedRedial,
    /// Contacting third parties.
    ThirdParty,
    /// The debtor asked us to stop.
    Cease,
    /// The recipient opted out of a channel.
    OptOut,
    /// The calendar does not cover the date.
    CalendarMissing,
    /// The case is closed: nothing more is collected on it.
    CaseClosed,
    /// The number does not exist (空号) or belongs to someone else.
    NumberInvalid,
    /// The carrier suspended the number (停机).
    NumberSuspended,
    /// The number was switched off (关机) earlier the same day.
    NumberPoweredOff,
}

impl Rule {
    /// Every rule, in the order decisions list them.
    pub const ALL: [Rule; 17] = [
        Rule::CaseClosed,
        Rule::NumberInvalid,
        Rule::NumberSuspended,
        Rule::NumberPoweredOff,
        Rule::Cease,
        Rule::OptOut,
        Rule::Hours,
        Rule::Holiday,
        Rule::CalendarMissing,
        Rule::DailyCap,
        Rule::CycleCap,
        Rule::UnansweredCap,
        Rule::ConversationCap,
        Rule::SevenInSeven,
        Rule::AfterConversation,
        Rule::AbandonedRedial,
        Rule::ThirdParty,
    ];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Rule::Hours => "HOURS",
            Rule::Holiday => "HOLIDAY",
            Rule::DailyCap => "DAILY_CAP",
            Rule::CycleCap => "CYCLE_CAP",
            Rule::UnansweredCap => "UNANSWERED_CAP",
            Rule::ConversationCap => "CONVERSATION_CAP",
            Rule::SevenInSeven => "SEVEN_IN_SEVEN",
            Rule::AfterConversation => "AFTER_CONVERSATION",
            Rule::AbandonedRedial => "ABANDONED_REDIAL",
            Rule::ThirdParty => "THIRD_PARTY",
            Rule::Cease => "CEASE",
            Rule::OptOut => "OPT_OUT",
            Rule::CalendarMissing => "CALENDAR_MISSING",
            Rule::CaseClosed => "CASE_CLOSED",
            Rule::NumberInvalid => "NUMBER_INVALID",
            Rule::NumberSuspended => "NUMBER_SUSPENDED",
            Rule::NumberPoweredOff => "NUMBER_POWERED_OFF",
        }
    }

    pub(crate) const fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of channels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels(u8);

impl Channels {
    /// No channel.
    pub const NONE: Channels = Channels(0);

    /// Whether `c` is in the set.
    #[inline]
    pub const fn has(self, c: Channel) -> bool {
        self.0 & (1 << c as u8) != 0
    }

    /// The set with `c` added.
    pub const fn with(self, c: Channel) -> Channels {
        Channels(self.0 | 1 << c as u8)
    }

    /// The channels, in vocabulary order.
    pub fn list(self) -> Vec<Channel> {
        Channel::ALL.iter().copied().filter(|c| self.has(*c)).collect()
    }

    /// The channels in English words (`robot call`, not the code).
    fn words(self) -> String {
        self.list().iter().map(|c| c.as_str().replace('_', " ")).collect::<Vec<_>>().join(", ")
    }
}

impl FromIterator<Channel> for Channels {
    fn from_iter<I: IntoIterator<Item = Channel>>(iter: I) -> Channels {
        iter.into_iter().fold(Channels::NONE, Channels::with)
    }
}

/// A rule's texts: what it forbids, in both languages, and where the rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    /// The rule.
    pub rule: Rule,
    /// English.
    pub message: Arc<str>,
    /// Simplified Chinese.
    pub message_zh: Arc<str>,
    /// The regulation or policy.
    pub citation: Arc<str>,
}

/// `HOURS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    /// Channels the hours apply to.
    pub channels: Channels,
    /// First allowed second of the local day.
    pub from: i64,
    /// First second of the local day no longer allowed.
    pub until: i64,
    /// Whether `flags.consented_hours` lifts the rule.
    pub consent_lifts: bool,
    /// Texts.
    pub text: RuleText,
}

/// `HOLIDAY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// Channels it applies to.
    pub channels: Channels,
    /// Texts.
    pub text: RuleText,
}

/// A count limit (`DAILY_CAP`, `UNANSWERED_CAP`, `CONVERSATION_CAP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    /// At most this many.
    pub max: u32,
    /// Texts.
    pub text: RuleText,
}

/// `CYCLE_CAP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleCap {
    /// At most this many call attempts per cycle.
    pub max: u32,
    /// The window when a request names no cycle start.
    pub rolling_days: i32,
    /// Texts.
    pub text: RuleText,
}

/// `SEVEN_IN_SEVEN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SevenInSeven {
    /// At most this many counted call attempts …
    pub max: u32,
    /// … in this many days.
    pub days: i32,
    /// Outcomes not counted.
    pub uncounted: Vec<Outcome>,
    /// Texts.
    pub text: RuleText,
}

/// `AFTER_CONVERSATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterConversation {
    /// Days closed, counting the day of the conversation.
    pub days: i32,
    /// Texts.
    pub text: RuleText,
}

/// `ABANDONED_REDIAL` and the abandonment limit: a call answered with no collector to take it
/// (abandoned) hears the bank's message; for `redial_hours` after it the number is called
/// again only with a collector on the line (never by a robot or a predictive dialler); and a
/// dialler's abandoned calls stay at most `limit_percent` of its answered calls over any
/// `window_hours` (Ofcom's persistent-misuse policy: 3 % over 24 hours per campaign, 72 hours).
#[derive(Debug, Clone, PartialEq)]
pub struct Abandonment {
    /// Hours after an abandoned call during which an unattended call to the number is refused.
    pub redial_hours: i32,
    /// The most abandoned calls may be of answered calls, in percent (0 to 100).
    pub limit_percent: f64,
    /// The window the rate is taken over, in hours.
    pub window_hours: i32,
    /// Texts.
    pub text: RuleText,
}

/// When a third party may be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThirdPartyWhen {
    /// Never.
    Never,
    /// When the last `failed_in_a_row` call attempts to the debtor all failed, with no
    /// conversation since.
    DebtorFailed,
    /// When every known debtor number had an `invalid_number` outcome, or the last
    /// `failed_in_a_row` call attempts to the debtor failed.
    DebtorUnreachable,
    /// Always (subject to the per-point limits).
    Always,
}

/// `THIRD_PARTY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdParty {
    /// When.
    pub when: ThirdPartyWhen,
    /// How many failed call attempts in a row count as failing.
    pub failed_in_a_row: usize,
    /// Whether the operator must confirm (`confirmed_third_party`).
    pub needs_confirmation: bool,
    /// At most this many attempts per third-party contact point per day.
    pub per_point_per_day: Option<u32>,
    /// At most this many attempts per third-party contact point, ever.
    pub per_point_ever: Option<u32>,
    /// Texts.
    pub text: RuleText,
}

/// `CEASE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cease {
    /// Channels still allowed after a cease request.
    pub allowed: Channels,
    /// Texts.
    pub text: RuleText,
}

/// A validated policy pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// Short name (`cn-default`).
    pub name: String,
    /// Title in English.
    pub title: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// The zone assumed when a request lists none.
    pub default_time_zone: Option<(String, TimeZone)>,
    /// `HOURS`.
    pub hours: Option<Hours>,
    /// `HOLIDAY`.
    pub holiday: Option<Holiday>,
    /// `DAILY_CAP`.
    pub daily_cap: Option<Cap>,
    /// `CYCLE_CAP`.
    pub cycle_cap: Option<CycleCap>,
    /// `UNANSWERED_CAP`.
    pub unanswered_cap: Option<Cap>,
    /// `CONVERSATION_CAP`.
    pub conversation_cap: Option<Cap>,
    /// `SEVEN_IN_SEVEN`.
    pub seven_in_seven: Option<SevenInSeven>,
    /// `AFTER_CONVERSATION`.
    pub after_conversation: Option<AfterConversation>,
    /// `ABANDONED_REDIAL`, and the abandonment limit a dialler is held to (the `[abandonment]`
    /// table).
    pub abandonment: Option<Abandonment>,
    /// `THIRD_PARTY`.
    pub third_party: ThirdParty,
    /// `CEASE`.
    pub cease: Cease,
    /// `OPT_OUT`.
    pub opt_out: RuleText,
    /// `CALENDAR_MISSING`.
    pub calendar_missing: RuleText,
    /// What happens after the calendar's last year: refuse, or judge provisionally.
    pub beyond: Beyond,
    /// The holiday calendar (the shipped one plus any years the pack adds).
    pub calendar: Arc<Calendar>,
    /// The bounds on promises, plans and waivers and the waiver approval matrix (the `[money]`
    /// table; defaults when absent).
    pub money: daylight_domain::bounds::MoneyPolicy,
    /// How long call recordings are kept (the `[recordings]` table); none: they are never
    /// purged.
    pub recordings: Option<Retention>,
    /// The TOML the pack was read from.
    pub source: String,
    /// How many days either side of a request its rules look at.
    pub(crate) reach_days: i32,
}

/// The rules every pack applies, whatever its text: they follow from facts of the case and the
/// number, not from a regulation a bank may choose.
static FACTS: std::sync::LazyLock<[RuleText; 4]> = std::sync::LazyLock::new(|| {
    let text = |rule, en: &str, zh: &str, citation: &str| RuleText {
        rule,
        message: en.into(),
        message_zh: zh.into(),
        citation: citation.into(),
    };
    [
        text(
            Rule::CaseClosed,
            "the case is closed: reopen it before contacting the debtor about it",
            "案件已结案：如需继续联系，请先重新开案",
            "Daylight: a closed case is not worked (closure reasons in docs/compliance.md)",
        ),
        text(
            Rule::NumberInvalid,
            "the number was found not to exist or not to be the owner's (空号/错号): propose a corrected number",
            "该号码为空号或非本人号码：请提交更正后的号码",
            "Daylight number screening: a number found not to exist or not to be the owner's is not dialled again (docs/compliance.md)",
        ),
        text(
            Rule::NumberSuspended,
            "the carrier has suspended the number (停机) until it is found working again",
            "该号码已停机，待确认恢复后方可拨打",
            "Daylight number screening: a suspended number is not dialled until it is found working (docs/compliance.md)",
        ),
        text(
            Rule::NumberPoweredOff,
            "the number was switched off (关机) earlier today: try again tomorrow",
            "该号码今日已关机，请于次日再拨",
            "Daylight: a switched-off number is retried on a later day rather than redialled",
        ),
    ]
});

/// `calendar` with the provisional years `beyond` asks for.
fn provisional(calendar: Arc<Calendar>, beyond: Beyond) -> Arc<Calendar> {
    match beyond {
        Beyond::Refuse => calendar,
        Beyond::Provisional => Arc::new(calendar.with_provisional(PROVISIONAL_YEARS)),
    }
}

/// The packs Daylight ships, by name.
pub const SHIPPED: [(&str, &str); 3] = [
    ("cn-default", include_str!("../packs/cn-default.toml")),
    ("cn-cba-2026", include_str!("../packs/cn-cba-2026.toml")),
    ("us-reg-f", include_str!("../packs/us-reg-f.toml")),
];

/// The default pack's name.
pub const DEFAULT_PACK: &str = "cn-default";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    name: String,
    title: String,
    title_zh: String,
    #[serde(default)]
    default_time_zone: Option<String>,
    #[serde(default)]
    hours: Option<RawHours>,
    #[serde(default)]
    holiday: Option<RawHoliday>,
    #[serde(default)]
    daily_cap: Option<RawCap>,
    #[serde(default)]
    cycle_cap: Option<RawCycleCap>,
    #[serde(default)]
    unanswered_cap: Option<RawCap>,
    #[serde(default)]
    conversation_cap: Option<RawCap>,
    #[serde(default)]
    seven_in_seven: Option<RawSeven>,
    #[serde(default)]
    after_conversation: Option<RawAfter>,
    #[serde(default)]
    abandonment: Option<RawAbandonment>,
    third_party: RawThirdParty,
    cease: RawCease,
    opt_out: RawCitation,
    calendar_missing: RawCalendarMissing,
    #[serde(default)]
    calendar: Option<RawPackCalendar>,
    #[serde(default)]
    money: daylight_domain::bounds::MoneyPolicy,
    #[serde(default)]
    recordings: Option<Retention>,
}

/// How long call recordings are kept: a recording is purged (its audio and keys deleted, its
/// hash kept) once `retain_years` have passed both since it was made and since the case's last
/// contact, unless the case is under a legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Whole years, 1 to 100.
    pub retain_years: u16,
    /// Where the period comes from.
    pub citation: String,
}

impl Retention {
    /// The latest moment a recording made, or a case last contacted, may lie before `now` and
    /// still be kept: `now` less the period, in `zone`'s calendar.
    pub fn cutoff(&self, now: jiff::Timestamp, zone: &TimeZone) -> jiff::Timestamp {
        let back = jiff::Span::new().years(i64::from(self.retain_years));
        now.to_zoned(zone.clone()).checked_sub(back).map(|z| z.timestamp()).unwrap_or(jiff::Timestamp::MIN)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendarMissing {
    citation: String,
    #[serde(default)]
    beyond: Beyond,
}

/// What a pack does with a date after the last year its calendar has entered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Beyond {
    /// Refuse every contact the holiday rule binds (`CALENDAR_MISSING`): the default.
    #[default]
    Refuse,
    /// Judge the next two years provisionally: statutory holiday days and weekends off, no
    /// make-up working days; every such verdict is marked provisional.
    Provisional,
}

/// How many years a provisional calendar runs past the last year entered.
pub const PROVISIONAL_YEARS: i16 = 2;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    channels: Vec<Channel>,
    from: String,
    until: String,
    #[serde(default)]
    consent_lifts: bool,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    channels: Vec<Channel>,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCap {
    max: u32,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCycleCap {
    max: u32,
    rolling_days: i32,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeven {
    max: u32,
    days: i32,
    #[serde(default)]
    uncounted: Vec<Outcome>,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAfter {
    days: i32,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAbandonment {
    redial_hours: i32,
    limit_percent: f64,
    window_hours: i32,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThirdParty {
    when: ThirdPartyWhen,
    #[serde(default)]
    failed_in_a_row: Option<usize>,
    #[serde(default)]
    needs_confirmation: bool,
    #[serde(default)]
    per_point_per_day: Option<u32>,
    #[serde(default)]
    per_point_ever: Option<u32>,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCease {
    allowed: Vec<Channel>,
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCitation {
    citation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackCalendar {
    #[serde(default)]
    year: Vec<RawYear>,
}

/// The longest window (in days) a day-counting rule may use.
pub const MAX_WINDOW_DAYS: i32 = 62;

fn rule_text(
    rule: Rule,
    en: String,
    zh: String,
    citation: &str,
    origin: &str,
) -> Result<RuleText, PolicyError> {
    if citation.trim().is_empty() {
        return Err(PolicyError::invalid(
            origin,
            &format!("{}.citation", key(rule)),
            "cite the rule's source",
        ));
    }
    Ok(RuleText { rule, message: en.into(), message_zh: zh.into(), citation: citation.trim().into() })
}

fn key(rule: Rule) -> String {
    rule.code().to_ascii_lowercase()
}

fn clock(value: &str, field: &str, origin: &str) -> Result<i64, PolicyError> {
    let bad = || {
        PolicyError::invalid(
            origin,
            field,
            format!("{value:?}; expected a time of day HH:MM, 00:00 to 24:00"),
        )
    };
    let (h, m) = value.split_once(':').ok_or_else(bad)?;
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h.to_string().len() > 2 || m >= 60 || h > 24 || (h == 24 && m > 0) || m < 0 || h < 0 {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

fn hhmm(s: i64) -> String {
    format!("{:02}:{:02}", s / 3600, s / 60 % 60)
}

fn positive(v: u32, field: &str, origin: &str) -> Result<u32, PolicyError> {
    if v == 0 {
        return Err(PolicyError::invalid(origin, field, "expected at least 1"));
    }
    Ok(v)
}

fn window(v: i32, field: &str, origin: &str) -> Result<i32, PolicyError> {
    if !(1..=MAX_WINDOW_DAYS).contains(&v) {
        return Err(PolicyError::invalid(
            origin,
            field,
            format!("{v}; expected 1 to {MAX_WINDOW_DAYS} days"),
        ));
    }
    Ok(v)
}

fn zh_channels(c: Channels) -> String {
    c.list()
        .iter()
        .map(|c| match c {
            Channel::Call => "人工外呼",
            Channel::RobotCall => "机器人外呼",
            Channel::Sms => "短信",
            Channel::Email => "电子邮件",
            Channel::Letter => "信函",
            Channel::Visit => "外访",
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// The pack's name, trimmed: lower-case letters, digits and `-`, at most 40 bytes.
fn pack_name(raw: &str, origin: &str) -> Result<String, PolicyError> {
    let name = raw.trim().to_owned();
    if name.is_empty()
        || name.len() > 40
        || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(PolicyError::invalid(
            origin,
            "name",
            format!("{name:?}; expected lower-case letters, digits and -"),
        ));
    }
    Ok(name)
}

/// `default_time_zone`: its name and the zone, which must be an IANA one.
fn default_zone(z: String, origin: &str) -> Result<(String, TimeZone), PolicyError> {
    let tz = TimeZone::get(&z).map_err(|_| {
        PolicyError::invalid(origin, "default_time_zone", format!("{z:?} is not an IANA time zone"))
    })?;
    Ok((z, tz))
}

/// `HOURS`: the local window (from before until) and its texts.
fn hours_rule(h: RawHours, origin: &str) -> Result<Hours, PolicyError> {
    let from = clock(&h.from, "hours.from", origin)?;
    let until = clock(&h.until, "hours.until", origin)?;
    if from >= until {
        return Err(PolicyError::invalid(
            origin,
            "hours",
            format!("from {} must be before until {}", h.from, h.until),
        ));
    }
    let channels: Channels = h.channels.into_iter().collect();
    let (f, u) = (hhmm(from), hhmm(until));
    let (mut en, mut zh) = (
        format!("{} only from {f} to {u} in the recipient's local time", channels.words()),
        format!("{}仅限于被催收人当地时间{f}至{u}", zh_channels(channels)),
    );
    if h.consent_lifts {
        en.push_str(", unless the debtor consented to other hours");
        zh.push_str("（债务人同意的除外）");
    }
    Ok(Hours {
        channels,
        from,
        until,
        consent_lifts: h.consent_lifts,
        text: rule_text(Rule::Hours, en, zh, &h.citation, origin)?,
    })
}

/// `HOLIDAY`: its channels and texts.
fn holiday_rule(h: RawHoliday, origin: &str) -> Result<Holiday, PolicyError> {
    let channels: Channels = h.channels.into_iter().collect();
    Ok(Holiday {
        channels,
        text: rule_text(
            Rule::Holiday,
            format!(
                "no {} on a statutory holiday day off (make-up working days are allowed)",
                channels.words()
            ),
            format!("法定节假日放假日不得{}（调休上班日除外）", zh_channels(channels)),
            &h.citation,
            origin,
        )?,
    })
}

/// A count limit, when the pack has it: `max` checked, its texts made from it by `texts`.
fn cap_rule(
    raw: Option<RawCap>,
    rule: Rule,
    texts: fn(u32) -> (String, String),
    origin: &str,
) -> Result<Option<Cap>, PolicyError> {
    raw.map(|c| {
        let max = positive(c.max, &format!("{}.max", key(rule)), origin)?;
        let (en, zh) = texts(max);
        Ok(Cap { max, text: rule_text(rule, en, zh, &c.citation, origin)? })
    })
    .transpose()
}

/// `DAILY_CAP`'s texts.
fn daily_cap_texts(max: u32) -> (String, String) {
    (
        format!(
            "at most {max} call attempts a day to one debtor (or guarantor), all numbers, agents and robots together"
        ),
        format!("对同一债务人（或担保人）每日呼叫不超过{max}次（所有号码、坐席与机器人合计）"),
    )
}

/// `UNANSWERED_CAP`'s texts.
fn unanswered_cap_texts(max: u32) -> (String, String) {
    (
        format!("at most {max} unanswered call attempts a day to one number"),
        format!("同一号码每日未接通呼叫不超过{max}次"),
    )
}

/// `CONVERSATION_CAP`'s texts.
fn conversation_cap_texts(max: u32) -> (String, String) {
    (
        format!(
            "after {max} conversations with the debtor in a day (robots included), no more calls that day"
        ),
        format!("同一债务人每日有效通话（含机器人）达{max}次后，当日不得再呼叫"),
    )
}

/// `CYCLE_CAP`: `max` and the rolling window checked, and its texts.
fn cycle_cap_rule(c: RawCycleCap, origin: &str) -> Result<CycleCap, PolicyError> {
    let max = positive(c.max, "cycle_cap.max", origin)?;
    let rolling_days = window(c.rolling_days, "cycle_cap.rolling_days", origin)?;
    Ok(CycleCap {
        max,
        rolling_days,
        text: rule_text(
            Rule::CycleCap,
            format!(
                "at most {max} call attempts to one debtor (or guarantor) in a cycle (from the cycle start to the same day next month, or any {rolling_days} days)"
            ),
            format!(
                "同一债务人（或担保人）每个周期呼叫不超过{max}次（账单周期，或任意连续{rolling_days}天）"
            ),
            &c.citation,
            origin,
        )?,
    })
}

/// `SEVEN_IN_SEVEN`: `max` and the window checked, the outcomes not counted, and its texts.
fn seven_in_seven_rule(c: RawSeven, origin: &str) -> Result<SevenInSeven, PolicyError> {
    let max = positive(c.max, "seven_in_seven.max", origin)?;
    let days = window(c.days, "seven_in_seven.days", origin)?;
    let not: Vec<&str> = c.uncounted.iter().map(|o| o.as_str()).collect();
    let except = if not.is_empty() { String::new() } else { format!(" ({} not counted)", not.join(", ")) };
    Ok(SevenInSeven {
        max,
        days,
        text: rule_text(
            Rule::SevenInSeven,
            format!("at most {max} call attempts about one debt in any {days} days{except}"),
            format!("就同一笔债务任意{days}天内呼叫不超过{max}次"),
            &c.citation,
            origin,
        )?,
        uncounted: c.uncounted,
    })
}

/// `AFTER_CONVERSATION`: the days closed checked, and its texts.
fn after_conversation_rule(c: RawAfter, origin: &str) -> Result<AfterConversation, PolicyError> {
    let days = window(c.days, "after_conversation.days", origin)?;
    Ok(AfterConversation {
        days,
        text: rule_text(
            Rule::AfterConversation,
            format!(
                "no call about a debt on the day of a conversation about it or the {} days after",
                days - 1
            ),
            format!("就某笔债务通话当日及其后{}天内不得再就该债务呼叫", days - 1),
            &c.citation,
            origin,
        )?,
    })
}

/// `ABANDONED_REDIAL` and the limit: the hours (1 to 24 × [`MAX_WINDOW_DAYS`] less a day) and
/// the percentage checked, and its texts.
fn abandonment_rule(a: RawAbandonment, origin: &str) -> Result<Abandonment, PolicyError> {
    let most = (MAX_WINDOW_DAYS - 1) * 24;
    if !(1..=most).contains(&a.redial_hours) {
        let found = format!("{}; expected 1 to {most} hours", a.redial_hours);
        return Err(PolicyError::invalid(origin, "abandonment.redial_hours", found));
    }
    if !(1..=most).contains(&a.window_hours) {
        let found = format!("{}; expected 1 to {most} hours", a.window_hours);
        return Err(PolicyError::invalid(origin, "abandonment.window_hours", found));
    }
    if !(0.0..=100.0).contains(&a.limit_percent) {
        let found = format!("{}; expected 0 to 100 percent", a.limit_percent);
        return Err(PolicyError::invalid(origin, "abandonment.limit_percent", found));
    }
    Ok(Abandonment {
        redial_hours: a.redial_hours,
        limit_percent: a.limit_percent,
        window_hours: a.window_hours,
        text: rule_text(
            Rule::AbandonedRedial,
            format!(
                "a number whose call was abandoned is called again within {} hours only with a collector on the line",
                a.redial_hours
            ),
            format!("呼损（接通后无坐席）后{}小时内，只可由坐席在线时再次呼叫该号码", a.redial_hours),
            &a.citation,
            origin,
        )?,
    })
}

/// `THIRD_PARTY`: when, the failures that count (1 to 20, default 3), the per-point limits,
/// and its texts.
fn third_party_rule(tp: RawThirdParty, origin: &str) -> Result<ThirdParty, PolicyError> {
    let failed_in_a_row = tp.failed_in_a_row.unwrap_or(3);
    if failed_in_a_row == 0 || failed_in_a_row > 20 {
        return Err(PolicyError::invalid(origin, "third_party.failed_in_a_row", "expected 1 to 20"));
    }
    let (mut en, mut zh) = third_party_when_texts(tp.when, tp.needs_confirmation, failed_in_a_row);
    if let Some(n) = tp.per_point_per_day {
        positive(n, "third_party.per_point_per_day", origin)?;
        let _ = write!(en, "; at most {n} a day per number");
        let _ = write!(zh, "；每个号码每日不超过{n}次");
    }
    if let Some(n) = tp.per_point_ever {
        positive(n, "third_party.per_point_ever", origin)?;
        let _ = write!(en, "; at most {n} per number, ever");
        let _ = write!(zh, "；每个号码累计不超过{n}次");
    }
    Ok(ThirdParty {
        when: tp.when,
        failed_in_a_row,
        needs_confirmation: tp.needs_confirmation,
        per_point_per_day: tp.per_point_per_day,
        per_point_ever: tp.per_point_ever,
        text: rule_text(Rule::ThirdParty, en, zh, &tp.citation, origin)?,
    })
}

/// What `THIRD_PARTY` says of when a third party may be contacted (and of the operator's
/// confirmation, when it is needed).
fn third_party_when_texts(
    when: ThirdPartyWhen,
    needs_confirmation: bool,
    failed_in_a_row: usize,
) -> (String, String) {
    let needs = |en: &str, zh: &str| -> (String, String) {
        if needs_confirmation {
            (format!("{en}, and only when the operator confirmed it"), format!("{zh}，且须经作业人员确认"))
        } else {
            (en.to_owned(), zh.to_owned())
        }
    };
    match when {
        ThirdPartyWhen::Never => {
            ("third parties are never contacted".to_owned(), "不得联系第三人".to_owned())
        }
        ThirdPartyWhen::DebtorFailed => needs(
            &format!(
                "a third party only after the last {failed_in_a_row} call attempts to the debtor all failed with no conversation since"
            ),
            &format!("仅在对债务人最近{failed_in_a_row}次呼叫均未接通且此后无有效通话时方可联系第三人"),
        ),
        ThirdPartyWhen::DebtorUnreachable => needs(
            &format!(
                "a third party only when the debtor is unreachable: every known debtor number is invalid, or the last {failed_in_a_row} call attempts failed"
            ),
            &format!(
                "仅在债务人失联（本人号码均为空号，或最近{failed_in_a_row}次呼叫均未接通）时方可联系第三人"
            ),
        ),
        ThirdPartyWhen::Always => needs("third parties may be contacted", "可联系第三人"),
    }
}

/// `CEASE`: the channels still allowed after a cease request, and its texts.
fn cease_rule(c: RawCease, origin: &str) -> Result<Cease, PolicyError> {
    let allowed: Channels = c.allowed.into_iter().collect();
    Ok(Cease {
        allowed,
        text: rule_text(
            Rule::Cease,
            if allowed == Channels::NONE {
                "the debtor asked us to stop: no contact".to_owned()
            } else {
                format!("the debtor asked us to stop: {} only", allowed.words())
            },
            if allowed == Channels::NONE {
                "债务人已要求停止联系：不得联系".to_owned()
            } else {
                format!("债务人已要求停止联系：仅可{}", zh_channels(allowed))
            },
            &c.citation,
            origin,
        )?,
    })
}

/// The holiday calendar: the shipped one plus any years the pack enters, with the
/// provisional years `beyond` asks for.
fn pack_calendar(
    extra: Option<RawPackCalendar>,
    beyond: Beyond,
    origin: &str,
) -> Result<Arc<Calendar>, PolicyError> {
    let calendar = match extra {
        None => Calendar::china(),
        Some(extra) => {
            let mut cal = (*Calendar::china()).clone();
            cal.add_years(extra.year, origin)?;
            Arc::new(cal)
        }
    };
    Ok(provisional(calendar, beyond))
}

/// How many days either side of a request the rules look at: one more than the longest
/// window (a cycle counts as at least 31 days).
fn reach_days(
    cycle_cap: Option<&CycleCap>,
    seven_in_seven: Option<&SevenInSeven>,
    after_conversation: Option<&AfterConversation>,
    abandonment: Option<&Abandonment>,
) -> i32 {
    1 + [
        cycle_cap.map_or(1, |c| c.rolling_days.max(31)),
        seven_in_seven.map_or(1, |s| s.days),
        after_conversation.map_or(1, |a| a.days),
        abandonment.map_or(1, |a| a.redial_hours / 24 + 1),
    ]
    .into_iter()
    .max()
    .unwrap_or(1)
}

impl Pack {
    /// A shipped pack by name.
    pub fn shipped(name: &str) -> Result<Pack, PolicyError> {
        let (_, text) = SHIPPED
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| PolicyError::unknown(name, &SHIPPED.map(|(n, _)| n)))?;
        Pack::from_toml(text, &format!("{name}.toml"))
    }

    /// Reads and validates a pack; `origin` names the file in errors.
    pub fn from_toml(source: &str, origin: &str) -> Result<Pack, PolicyError> {
        let raw: RawPack = toml::from_str(source).map_err(|e| PolicyError::toml(origin, source, &e))?;
        let name = pack_name(&raw.name, origin)?;
        let default_time_zone = raw.default_time_zone.map(|z| default_zone(z, origin)).transpose()?;
        let hours = raw.hours.map(|h| hours_rule(h, origin)).transpose()?;
        let holiday = raw.holiday.map(|h| holiday_rule(h, origin)).transpose()?;
        let daily_cap = cap_rule(raw.daily_cap, Rule::DailyCap, daily_cap_texts, origin)?;
        let cycle_cap = raw.cycle_cap.map(|c| cycle_cap_rule(c, origin)).transpose()?;
        let unanswered_cap = cap_rule(raw.unanswered_cap, Rule::UnansweredCap, unanswered_cap_texts, origin)?;
        let conversation_cap =
            cap_rule(raw.conversation_cap, Rule::ConversationCap, conversation_cap_texts, origin)?;
        let seven_in_seven = raw.seven_in_seven.map(|c| seven_in_seven_rule(c, origin)).transpose()?;
        let after_conversation =
            raw.after_conversation.map(|c| after_conversation_rule(c, origin)).transpose()?;
        let abandonment = raw.abandonment.map(|a| abandonment_rule(a, origin)).transpose()?;
        let third_party = third_party_rule(raw.third_party, origin)?;
        let cease = cease_rule(raw.cease, origin)?;
        let opt_out = rule_text(
            Rule::OptOut,
            "the recipient opted out of this channel".to_owned(),
            "被联系人已拒绝此渠道".to_owned(),
            &raw.opt_out.citation,
            origin,
        )?;
        let calendar_missing = rule_text(
            Rule::CalendarMissing,
            "the holiday calendar does not cover this date's year, so the date cannot be judged".to_owned(),
            "节假日日历未包含该年份，无法判断，暂不允许联系".to_owned(),
            &raw.calendar_missing.citation,
            origin,
        )?;
        let beyond = raw.calendar_missing.beyond;
        raw.money.check().map_err(|e| PolicyError::invalid(origin, "money", e.message))?;
        if let Some(r) = &raw.recordings {
            if !(1..=100).contains(&r.retain_years) {
                return Err(PolicyError::invalid(
                    origin,
                    "recordings.retain_years",
                    format!("{} years: expected 1 to 100", r.retain_years),
                ));
            }
            if r.citation.trim().is_empty() {
                return Err(PolicyError::invalid(
                    origin,
                    "recordings.citation",
                    "expected the source of the period",
                ));
            }
        }
        let calendar = pack_calendar(raw.calendar, beyond, origin)?;
        let reach_days = reach_days(
            cycle_cap.as_ref(),
            seven_in_seven.as_ref(),
            after_conversation.as_ref(),
            abandonment.as_ref(),
        );
        Ok(Pack {
            name,
            title: raw.title,
            title_zh: raw.title_zh,
            default_time_zone,
            hours,
            holiday,
            daily_cap,
            cycle_cap,
            unanswered_cap,
            conversation_cap,
            seven_in_seven,
            after_conversation,
            abandonment,
            third_party,
            cease,
            opt_out,
            calendar_missing,
            beyond,
            reach_days,
            calendar,
            money: raw.money,
            recordings: raw.recordings,
            source: source.to_owned(),
        })
    }

    /// The pack with the years of `calendar` (text of the shipped calendar's `[[year]]` form,
    /// from the State Council's notice) written into its own text under `[[calendar.year]]`,
    /// so that the stored pack carries them: the new pack, checked as a whole. A year already
    /// entered in the pack's text is refused; one shipped is replaced.
    pub fn with_years_text(&self, calendar: &str, origin: &str) -> Result<Pack, PolicyError> {
        Calendar::from_toml(calendar, origin)?;
        let mut source = self.source.trim_end().to_owned();
        source.push_str("\n\n# Entered from ");
        source.push_str(origin);
        source.push('\n');
        for line in calendar.lines() {
            let t = line.trim_start();
            if t.starts_with("[[year.period]]") {
                source.push_str(&line.replacen("[[year.period]]", "[[calendar.year.period]]", 1));
            } else if t.starts_with("[[year]]") {
                source.push_str(&line.replacen("[[year]]", "[[calendar.year]]", 1));
            } else if t.starts_with('[') && !t.starts_with("[[") {
                return Err(PolicyError::invalid(
                    origin,
                    t,
                    "expected only [[year]] and [[year.period]] tables",
                ));
            } else {
                source.push_str(line);
            }
            source.push('\n');
        }
        Pack::from_toml(&source, "the pack with the new years")
    }

    /// The pack with more calendar years added (from a file of the calendar's form).
    pub fn with_calendar(mut self, calendar: Arc<Calendar>) -> Pack {
        self.calendar = provisional(calendar, self.beyond);
        self
    }

    /// The texts of every rule the pack applies, in decision order.
    pub fn rules(&self) -> Vec<&RuleText> {
        Rule::ALL.iter().filter_map(|r| self.text(*r)).collect()
    }

    /// The texts of one rule, when the pack applies it.
    pub fn text(&self, rule: Rule) -> Option<&RuleText> {
        match rule {
            Rule::Hours => self.hours.as_ref().map(|r| &r.text),
            Rule::Holiday => self.holiday.as_ref().map(|r| &r.text),
            Rule::DailyCap => self.daily_cap.as_ref().map(|r| &r.text),
            Rule::CycleCap => self.cycle_cap.as_ref().map(|r| &r.text),
            Rule::UnansweredCap => self.unanswered_cap.as_ref().map(|r| &r.text),
            Rule::ConversationCap => self.conversation_cap.as_ref().map(|r| &r.text),
            Rule::SevenInSeven => self.seven_in_seven.as_ref().map(|r| &r.text),
            Rule::AfterConversation => self.after_conversation.as_ref().map(|r| &r.text),
            Rule::AbandonedRedial => self.abandonment.as_ref().map(|r| &r.text),
            Rule::ThirdParty => Some(&self.third_party.text),
            Rule::Cease => Some(&self.cease.text),
            Rule::OptOut => Some(&self.opt_out),
            Rule::CalendarMissing => self.holiday.as_ref().map(|_| &self.calendar_missing),
            Rule::CaseClosed | Rule::NumberInvalid | Rule::NumberSuspended | Rule::NumberPoweredOff => {
                FACTS.iter().find(|t| t.rule == rule)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_packs_are_valid() {
        for (name, _) in SHIPPED {
            let p = Pack::shipped(name).unwrap();
            assert_eq!(p.name, name);
            assert!(p.rules().iter().all(|r| !r.citation.is_empty() && !r.message_zh.is_empty()));
        }
        assert_eq!(Pack::shipped("uk").unwrap_err().code, "POLICY_UNKNOWN");
    }

    #[test]
    fn packs_have_the_issue_rules() {
        let codes =
            |n: &str| Pack::shipped(n).unwrap().rules().iter().map(|r| r.rule.code()).collect::<Vec<_>>();
        assert_eq!(
            codes("cn-default"),
            [
                "CASE_CLOSED",
                "NUMBER_INVALID",
                "NUMBER_SUSPENDED",
                "NUMBER_POWERED_OFF",
                "CEASE",
                "OPT_OUT",
                "HOURS",
                "HOLIDAY",
                "CALENDAR_MISSING",
                "DAILY_CAP",
                "CYCLE_CAP",
                "ABANDONED_REDIAL",
                "THIRD_PARTY"
            ]
        );
        assert_eq!(
            codes("cn-cba-2026")[4..],
            [
                "CEASE",
                "OPT_OUT",
                "HOURS",
                "UNANSWERED_CAP",
                "CONVERSATION_CAP",
                "ABANDONED_REDIAL",
                "THIRD_PARTY"
            ]
        );
        assert_eq!(
            codes("us-reg-f")[4..],
            [
                "CEASE",
                "OPT_OUT",
                "HOURS",
                "SEVEN_IN_SEVEN",
                "AFTER_CONVERSATION",
                "ABANDONED_REDIAL",
                "THIRD_PARTY"
            ]
        );
        let d = Pack::shipped("cn-default").unwrap();
        assert_eq!(
            d.hours.as_ref().unwrap().text.message.as_ref(),
            "call, robot call, sms, visit only from 08:00 to 20:00 in the recipient's local time"
        );
    }

    #[test]
    fn a_bank_copies_a_pack_and_changes_numbers() {
        let text = SHIPPED[0]
            .1
            .replace("name = \"cn-default\"", "name = \"my-bank\"")
            .replace("max = 3\n", "max = 2\n");
        let p = Pack::from_toml(&text, "my-bank.toml").unwrap();
        assert_eq!((p.name.as_str(), p.daily_cap.unwrap().max), ("my-bank", 2));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_place() {
        let text = SHIPPED[0].1.replace("[daily_cap]\n", "[daily_cap]\nmaximum = 4\n");
        let e = Pack::from_toml(&text, "p.toml").unwrap_err();
        assert_eq!(e.code, "POLICY_TOML");
        assert!(e.message.contains("maximum"), "{e}");
        let line = text.lines().position(|l| l.starts_with("maximum")).unwrap() + 1;
        assert!(e.place.starts_with(&format!("p.toml:{line}:")), "{e}");

        let text = SHIPPED[0].1.replace("\"robot_call\"", "\"robocall\"");
        let e = Pack::from_toml(&text, "p.toml").unwrap_err();
        assert!(e.message.contains("robocall") && e.message.contains("robot_call"), "{e}");

        let text = SHIPPED[0].1.replace("until = \"20:00\"", "until = \"07:00\"");
        let e = Pack::from_toml(&text, "p.toml").unwrap_err();
        assert_eq!((e.code, e.place.as_str()), ("POLICY_INVALID", "p.toml: hours"));

        let text = SHIPPED[0].1.replace("until = \"20:00\"", "until = \"8pm\"");
        let e = Pack::from_toml(&text, "p.toml").unwrap_err();
        assert_eq!(e.place, "p.toml: hours.until");

        let text = SHIPPED[0].1.replace("max = 15", "max = 0");
        assert_eq!(Pack::from_toml(&text, "p.toml").unwrap_err().place, "p.toml: cycle_cap.max");
    }
}
