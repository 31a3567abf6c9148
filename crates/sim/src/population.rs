//! The virtual portfolio: each debtor's observable record (what a bank's files hold, in the
//! import formats) and hidden traits (what the product never sees and the twin answers with).
//!
//! Everything about debtor `i` is drawn from events named `(seed, Record | Trait, i, k)`, so a
//! population is the same on every machine, and the first `n` debtors of a larger population
//! are the population of `n`.

use daylight_domain::bucket::{Bucket, BucketScheme};
use daylight_domain::customer::ContactRole;
use daylight_domain::pii::resident_id_check_char;
use daylight_strategy::document::Tone;
use jiff::civil::Date;

use crate::rng::{Stream, logistic, normal, pick, uniform};

/// How a debtor's day goes, hour by hour (what the answering profile follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Persona {
    /// Busy 09:00–18:00, free at lunch and in the evening.
    OfficeWorker,
    /// Asleep in the morning and early afternoon.
    NightShift,
    /// At home most of the day.
    Retired,
    /// In class in the morning and early afternoon.
    Student,
    /// Their own hours: evenly reachable.
    SelfEmployed,
}

impl Persona {
    /// Every persona, in the order of [`PERSONA_SHARES`].
    pub const ALL: [Persona; 5] = [
        Persona::OfficeWorker,
        Persona::NightShift,
        Persona::Retired,
        Persona::Student,
        Persona::SelfEmployed,
    ];

    /// P(the debtor picks up a call in this local hour | their phone is on and the number is
    /// theirs), hours 0–23.
    pub const fn answering(self) -> [f64; 24] {
        match self {
            Persona::OfficeWorker => [
                0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.25, 0.10, 0.08, 0.10, 0.40, 0.35, 0.08,
                0.08, 0.08, 0.12, 0.35, 0.45, 0.45, 0.35, 0.15, 0.05,
            ],
            Persona::NightShift => [
                0.10, 0.08, 0.05, 0.05, 0.05, 0.05, 0.04, 0.03, 0.02, 0.02, 0.02, 0.03, 0.04, 0.08, 0.20,
                0.35, 0.40, 0.40, 0.35, 0.30, 0.25, 0.20, 0.15, 0.12,
            ],
            Persona::Retired => [
                0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.35, 0.45, 0.50, 0.45, 0.35, 0.20, 0.15, 0.40,
                0.45, 0.45, 0.35, 0.25, 0.30, 0.25, 0.10, 0.03, 0.01,
            ],
            Persona::Student => [
                0.05, 0.03, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.08, 0.06, 0.06, 0.15, 0.35, 0.30, 0.08,
                0.08, 0.12, 0.30, 0.35, 0.40, 0.40, 0.40, 0.30, 0.15,
            ],
            Persona::SelfEmployed => [
                0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.05, 0.15, 0.25, 0.28, 0.28, 0.28, 0.30, 0.30, 0.28,
                0.28, 0.28, 0.28, 0.30, 0.30, 0.25, 0.15, 0.08, 0.03,
            ],
        }
    }
}

/// Shares of the personas among card holders (see docs/twin.md).
pub const PERSONA_SHARES: [f64; 5] = [0.45, 0.10, 0.12, 0.08, 0.25];

/// How a debtor takes being collected from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Temperament {
    /// Listens.
    Calm,
    /// Worried: soothing words help, pressure hurts.
    Anxious,
    /// Rude and threatening when called.
    Abusive,
    /// "Anti-collection" (反催收): records the calls and complains when pressed.
    AntiCollection,
}

impl Temperament {
    /// Every temperament, in the order of [`TEMPERAMENT_SHARES`].
    pub const ALL: [Temperament; 4] =
        [Temperament::Calm, Temperament::Anxious, Temperament::Abusive, Temperament::AntiCollection];
}

/// Shares of the temperaments (see docs/twin.md).
pub const TEMPERAMENT_SHARES: [f64; 4] = [0.62, 0.25, 0.07, 0.06];

/// What the debtor's own number does when dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Line {
    /// In service and theirs.
    Valid,
    /// Does not exist (空号).
    Invalid,
    /// Suspended for non-payment (停机).
    Suspended,
    /// In service, often switched off (关机) — some days it is off.
    Flaky,
}

impl Line {
    /// Every state, in the order of [`LINE_SHARES`].
    pub const ALL: [Line; 4] = [Line::Valid, Line::Invalid, Line::Suspended, Line::Flaky];
}

/// Shares of the line states (see docs/twin.md).
pub const LINE_SHARES: [f64; 4] = [0.82, 0.05, 0.05, 0.08];

/// What the product never sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Hidden {
    /// Ability to pay, 0–1.
    pub ability: f64,
    /// Willingness to pay, 0–1.
    pub willingness: f64,
    /// Their day.
    pub persona: Persona,
    /// How they take collection.
    pub temperament: Temperament,
    /// Their own number.
    pub line: Line,
    /// P(a robot call is not hung up on at once | picked up), 0–1.
    pub robot_tolerance: f64,
    /// P(an SMS is read and acted on as a reminder), 0–1.
    pub sms_reads: f64,
    /// How each tone moves their willingness to promise ([`Tone::ALL`] order): a factor on the
    /// odds.
    pub tone: [f64; 6],
}

/// Someone related to the debtor, with a phone.
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// Contact point id.
    pub contact_id: String,
    /// Guarantor, emergency contact, relative, colleague.
    pub role: ContactRole,
    /// Their name.
    pub name: String,
    /// Their mobile.
    pub mobile: String,
}

/// The debtor's card account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Account id.
    pub account_id: String,
    /// Card number (valid Luhn).
    pub card_number: String,
    /// Credit limit, fen.
    pub credit_limit: i64,
    /// Balance, fen.
    pub balance: i64,
    /// Statement day, 1–28.
    pub statement_day: i8,
    /// Days past due.
    pub dpd: u32,
    /// Overdue principal, fen.
    pub overdue_principal: i64,
    /// Overdue interest, fen.
    pub overdue_interest: i64,
    /// Overdue fees, fen.
    pub overdue_fees: i64,
    /// Late fees, fen.
    pub late_fees: i64,
}

impl Account {
    /// What is overdue, fen.
    pub fn overdue(&self) -> i64 {
        self.overdue_principal + self.overdue_interest + self.overdue_fees + self.late_fees
    }
}

/// One virtual debtor.
#[derive(Debug, Clone, PartialEq)]
pub struct Debtor {
    /// Customer id.
    pub customer_id: String,
    /// Chinese name.
    pub name: String,
    /// Resident ID with a valid GB 11643 check character.
    pub resident_id: String,
    /// `M` or `F` (as the ID says).
    pub gender: char,
    /// Birth date (as the ID says).
    pub birth_date: Date,
    /// Mobile number.
    pub mobile: String,
    /// Employer.
    pub employer: Option<String>,
    /// Region.
    pub region: &'static str,
    /// Related people with phones (a guarantor for some, one or two emergency contacts).
    pub related: Vec<Related>,
    /// The card account.
    pub account: Account,
    /// The hidden traits.
    pub hidden: Hidden,
}

/// Regions: the ID's six-digit code and the name a file would hold.
const REGIONS: [(&str, &str); 10] = [
    ("110105", "北京市朝阳区"),
    ("310115", "上海市浦东新区"),
    ("440305", "广东省深圳市南山区"),
    ("440106", "广东省广州市天河区"),
    ("330106", "浙江省杭州市西湖区"),
    ("510107", "四川省成都市武侯区"),
    ("420106", "湖北省武汉市武昌区"),
    ("320102", "江苏省南京市玄武区"),
    ("610113", "陕西省西安市雁塔区"),
    ("370102", "山东省济南市历下区"),
];
const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何",
    "高", "林", "罗", "郑", "梁", "谢", "宋",
];
const GIVEN: [&str; 30] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀", "霞", "平", "刚", "桂", "英", "华", "建", "文", "辉", "玲", "鹏", "宇",
];
const EMPLOYERS: [&str; 8] = [
    "某科技有限公司",
    "某贸易有限公司",
    "某餐饮管理有限公司",
    "某物流有限公司",
    "某建设工程有限公司",
    "某商贸中心",
    "某医院",
    "某中学",
];
const MOBILE_PREFIXES: [&str; 16] = [
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "158", "159", "177", "186", "188",
    "189",
];
const BINS: [&str; 4] = ["622848", "622588", "625965", "622700"];

/// The starting buckets' shares (M0 … M6+; see docs/twin.md).
pub const BUCKET_SHARES: [f64; 8] = [0.70, 0.14, 0.05, 0.03, 0.02, 0.02, 0.02, 0.02];

fn name(seed: u64, i: u64, k: u64) -> String {
    let s = SURNAMES[(uniform(seed, Stream::Record, i, k) * SURNAMES.len() as f64) as usize];
    let g1 = GIVEN[(uniform(seed, Stream::Record, i, k + 1) * GIVEN.len() as f64) as usize];
    if uniform(seed, Stream::Record, i, k + 2) < 0.6 {
        let g2 = GIVEN[(uniform(seed, Stream::Record, i, k + 3) * GIVEN.len() as f64) as usize];
        format!("{s}{g1}{g2}")
    } else {
        format!("{s}{g1}")
    }
}

/// A mobile number unique to `(i, role)` among `i < 10⁷` (an affine bijection of the last eight
/// digits).
fn mobile(seed: u64, i: u64, role: u64) -> String {
    let prefix = MOBILE_PREFIXES
        [(uniform(seed, Stream::Record, i, 40 + role) * MOBILE_PREFIXES.len() as f64) as usize];
    let n = (i * 10 + role) % 100_000_000;
    format!("{prefix}{:08}", (n * 7_919 + 12_345_678) % 100_000_000)
}

fn luhn(body: &str) -> String {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k % 2 == 0 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Debtors with distinct (birth date, sequence) pairs: 100 serials × 336 days of the year ×
/// 43 ages × 5 pairs of sequence digits. Resident IDs are unique among the first this many
/// debtors of a population.
pub const IDENTITIES: u64 = 100 * 336 * 43 * 5;

/// Debtor `i` of the population `seed`, as of `today`.
pub fn debtor(seed: u64, i: u64, today: Date) -> Debtor {
    let u = |k: u64| uniform(seed, Stream::Record, i, k);
    let (code, region) = REGIONS[(u(0) * REGIONS.len() as f64) as usize];
    // Birth date and sequence digits are a scrambled digit-split of `i`, so no two debtors
    // share a resident ID (a bank's file never does): see `IDENTITIES`.
    let j = (i % IDENTITIES * 7_919 + seed % IDENTITIES * 104_729 + 1_234_567) % IDENTITIES;
    let (serial, j) = (j % 100, j / 100);
    let (day_of_year, j) = (j % 336, j / 336);
    let (years, fifth) = (j % 43, j / 43);
    let age = 22 + years as i16;
    let birth_date =
        jiff::civil::date(today.year() - age, 1 + (day_of_year / 28) as i8, 1 + (day_of_year % 28) as i8);
    let male = u(4) < 0.55;
    // The sequence digits' last one is odd for men, even for women.
    let seq = serial * 10 + 2 * fifth + u64::from(male);
    let first17 = format!("{code}{}{seq:03}", birth_date.strftime("%Y%m%d"));
    let mut digits = [0u8; 17];
    digits.copy_from_slice(first17.as_bytes());
    let resident_id = format!("{first17}{}", resident_id_check_char(&digits));
    let customer_id = format!("T{i:08}");
    let mut related = Vec::new();
    if u(10) < 0.15 {
        related.push(Related {
            contact_id: format!("{customer_id}-G"),
            role: ContactRole::Guarantor,
            name: name(seed, i, 60),
            mobile: mobile(seed, i, 1),
        });
    }
    let emergency = if u(11) < 0.4 { 2 } else { 1 };
    for e in 0..emergency {
        related.push(Related {
            contact_id: format!("{customer_id}-E{}", e + 1),
            role: if e == 0 { ContactRole::EmergencyContact } else { ContactRole::Relative },
            name: name(seed, i, 70 + 10 * e),
            mobile: mobile(seed, i, 2 + e),
        });
    }
    let limit_yuan = [5_000, 10_000, 20_000, 30_000, 50_000, 80_000][(u(20) * 6.0) as usize];
    let credit_limit = i64::from(limit_yuan) * 100;
    let bucket = pick(u(21), &BUCKET_SHARES);
    let scheme = BucketScheme::default();
    let dpd = match scheme.range(Bucket::ALL[bucket]) {
        (first, Some(last)) => first + (u(22) * f64::from(last - first + 1)) as u32,
        (first, None) => first + (u(22) * 180.0) as u32,
    };
    let used = 0.3 + 0.7 * u(23);
    let balance = (credit_limit as f64 * if dpd > 0 { 0.8 + 0.4 * u(24) } else { used }) as i64;
    // About one minimum payment per month behind; interest at 0.05 % a day on it.
    let months = i64::from(dpd.div_ceil(30));
    let overdue_principal = if dpd > 0 { (balance / 10 * months).min(balance) } else { 0 };
    let overdue_interest = overdue_principal * i64::from(dpd) * 5 / 10_000;
    let late_fees = months * (balance / 10 * 5 / 100);
    let statement_day = 1 + (u(25) * 28.0) as i8;
    let card_body = format!("{}{:09}", BINS[(u(26) * BINS.len() as f64) as usize], i);
    let account = Account {
        account_id: format!("TA{i:08}"),
        card_number: luhn(&card_body),
        credit_limit,
        balance: balance.max(overdue_principal + overdue_interest + late_fees),
        statement_day,
        dpd,
        overdue_principal,
        overdue_interest,
        overdue_fees: 0,
        late_fees,
    };
    Debtor {
        name: name(seed, i, 50),
        resident_id,
        gender: if male { 'M' } else { 'F' },
        birth_date,
        mobile: mobile(seed, i, 0),
        employer: (u(12) < 0.8).then(|| EMPLOYERS[(u(13) * EMPLOYERS.len() as f64) as usize].to_owned()),
        region,
        related,
        account,
        hidden: hidden(seed, i, dpd),
        customer_id,
    }
}

fn hidden(seed: u64, i: u64, dpd: u32) -> Hidden {
    let u = |k: u64| uniform(seed, Stream::Trait, i, k);
    let z = |k: u64| normal(seed, Stream::Trait, i, k);
    // The longer overdue, the less able and willing on average.
    let behind = f64::from(dpd.min(180)) / 60.0;
    let temperament = Temperament::ALL[pick(u(3), &TEMPERAMENT_SHARES)];
    let mut tone = [1.0; 6];
    for (k, t) in Tone::ALL.iter().enumerate() {
        let base = match (temperament, t) {
            (Temperament::Anxious, Tone::Soothing | Tone::Negotiation) => 1.5,
            (Temperament::Anxious, Tone::Firm | Tone::LegalNotice) => 0.6,
            (Temperament::Calm, Tone::Firm | Tone::Education) => 1.2,
            (Temperament::Abusive, Tone::Firm | Tone::LegalNotice) => 0.5,
            (Temperament::AntiCollection, Tone::Firm | Tone::LegalNotice) => 0.4,
            (Temperament::AntiCollection, Tone::Negotiation) => 1.3,
            _ => 1.0,
        };
        tone[k] = base * (0.25 * z(20 + k as u64)).exp();
    }
    Hidden {
        ability: logistic(1.2 * z(0) + 0.6 - 0.8 * behind),
        willingness: logistic(1.0 * z(1) + 0.8 - 0.5 * behind),
        persona: Persona::ALL[pick(u(2), &PERSONA_SHARES)],
        temperament,
        line: Line::ALL[pick(u(4), &LINE_SHARES)],
        robot_tolerance: 0.3 + 0.6 * u(5),
        sms_reads: 0.2 + 0.7 * u(6),
        tone,
    }
}

/// `n` debtors of the population `seed`, as of `today`.
pub fn population(seed: u64, n: u64, today: Date) -> Vec<Debtor> {
    (0..n).map(|i| debtor(seed, i, today)).collect()
}
