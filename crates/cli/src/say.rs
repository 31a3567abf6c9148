//! The command line's human output in one language at a time: `--lang zh-CN|en`, else
//! `DAYLIGHT_LANG`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG` starting `zh`); English
//! otherwise. Every sentence and column title comes from [`CATALOGUE`]; vocabulary codes (a
//! status, a bucket's channel) in words through the console's catalogue. `--json` output and
//! error codes never change with the language.

use std::fmt::Display;
use std::sync::OnceLock;

use daylight_server::console::i18n::{self, Lang};

static LANG: OnceLock<Lang> = OnceLock::new();

/// Chooses the language once, from `--lang` or the environment.
pub fn choose(flag: Option<&str>) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let tag = flag
        .map(str::to_owned)
        .or_else(|| env("DAYLIGHT_LANG"))
        .or_else(|| env("LC_ALL"))
        .or_else(|| env("LC_MESSAGES"))
        .or_else(|| env("LANG"))
        .unwrap_or_default();
    let lang = if tag.to_ascii_lowercase().starts_with("zh") { Lang::Zh } else { Lang::En };
    let _ = LANG.set(lang);
}

fn lang() -> Lang {
    *LANG.get().unwrap_or(&Lang::En)
}

/// `(key, zh-CN, en)`: a `{}` in a sentence takes the next argument of [`f`].
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    // Column titles (a leading `>` right-aligns the column; it is not translated).
    ("col.table", "数据表", "table"),
    ("col.rows", "行数", "rows"),
    ("col.bucket", "账龄", "bucket"),
    ("col.currency", "币种", "currency"),
    ("col.accounts", "账户数", "accounts"),
    ("col.balance", "余额", "balance"),
    ("col.overdue", "逾期金额", "overdue"),
    ("col.case_bucket", "案件账龄", "case bucket"),
    ("col.status", "状态", "status"),
    ("col.cases", "案件数", "cases"),
    ("col.case", "案件", "case"),
    ("col.debtor", "债务人", "debtor"),
    ("col.dpd", "逾期天数", "dpd"),
    ("col.collector", "催收员", "collector"),
    ("col.contact", "联系方式", "contact"),
    ("col.role", "关系", "role"),
    ("col.kind", "类型", "kind"),
    ("col.value", "号码/地址", "value"),
    ("col.name", "姓名", "name"),
    ("col.account", "账户", "account"),
    ("col.card", "卡号", "card"),
    ("col.principal", "本金", "principal"),
    ("col.interest", "利息", "interest"),
    ("col.fees", "费用", "fees"),
    ("col.late_fees", "滞纳金", "late fees"),
    ("col.bucket_move", "账龄迁移时间", "bucket move"),
    ("col.from", "原账龄", "from"),
    ("col.to", "新账龄", "to"),
    ("col.priority", "优先级", "#"),
    ("col.channel", "渠道", "channel"),
    ("col.recipient", "对象", "to"),
    ("col.script", "话术", "script"),
    ("col.window", "时段", "window"),
    ("col.arm", "实验组", "arm"),
    ("col.version", "版本", "version"),
    ("col.saved", "保存时间", "saved"),
    ("col.by", "操作人", "by"),
    ("col.note", "说明", "note"),
    ("col.sha256", "SHA-256", "sha256"),
    ("col.key", "配置项", "key"),
    ("col.updated", "修改时间", "updated"),
    ("col.customers", "客户数", "customers"),
    ("col.contact_t1", "T+1 接通率", "T+1 contact"),
    ("col.rpc", "本人沟通率", "RPC"),
    ("col.ptp", "承诺率", "PTP"),
    ("col.kept", "兑现率", "kept"),
    ("col.recovered_per_customer", "户均回款（元）", "recovered ¥/customer"),
    ("col.cost_per_customer", "户均成本（元）", "cost ¥/customer"),
    ("col.complaints_per_10k", "每万次投诉", "complaints/10k"),
    // What `stats` counts.
    ("table.customers", "客户", "customers"),
    ("table.contact_points", "联系方式", "contact_points"),
    ("table.accounts", "账户", "accounts"),
    ("table.transactions", "交易", "transactions"),
    ("table.payments", "还款", "payments"),
    ("table.cases", "案件", "cases"),
    ("table.bucket_moves", "账龄迁移", "bucket_moves"),
    ("table.attempts", "联系记录", "attempts"),
    ("table.notes", "催记", "notes"),
    ("table.promises", "承诺", "promises"),
    ("table.arrangements", "分期方案", "arrangements"),
    ("table.waivers", "减免", "waivers"),
    ("table.import_batches", "导入批次", "import_batches"),
    ("table.config", "配置", "config"),
    ("table.ledger", "账本事件", "ledger"),
    // Sentences.
    ("ledger.intact", "账本完整：{} 条事件", "ledger intact: {} events"),
    ("ledger.head", "链头 {}:{}", "head {}:{}"),
    ("ledger.broken", "账本在第 {} 条断裂：{}", "ledger BROKEN at seq {}: {}"),
    ("init.created", "已初始化 {}（数据库结构版本 {}）。", "Initialised {} (schema version {})."),
    ("init.upgraded", "已将 {} 从结构版本 {} 升级到 {}。", "Upgraded {} from schema version {} to {}."),
    ("init.current", "{} 已是最新（数据库结构版本 {}）。", "{} is up to date (schema version {})."),
    (
        "import.checked",
        "{}：已检查 {} 行，{} 行可入库（新增 {}，更新 {}），{} 行被拒；未入库（--check）；{} 秒（每秒 {} 行）",
        "{}: checked {} rows — {} would be stored ({} new, {} updated), {} refused; nothing was stored (--check); {} s ({} rows/s)",
    ),
    (
        "import.stored",
        "{}：读取 {} 行，入库 {} 行（新增 {}，更新 {}），{} 行被拒，批次 {}，账本序号 {}；{} 秒（每秒 {} 行）",
        "{}: {} rows read, {} stored ({} new, {} updated), {} refused — batch {}, ledger seq {}; {} s ({} rows/s)",
    ),
    (
        "import.moves",
        "  记录账龄迁移 {} 次，开立、更新或结清案件 {} 个",
        "  {} bucket moves recorded, {} cases opened, updated or closed",
    ),
    (
        "import.refused",
        "{}：已拒绝 —— {} 行有错误（共 {} 行），因此未入库（使用 `--partial` 只导入无误的行）",
        "{}: refused — {} of {} rows have errors, so nothing was stored (use --partial to store the good rows)",
    ),
    ("import.rejects", "  被拒记录：{}", "  rejects: {}"),
    ("import.more_rejects", "  …… 其余见被拒记录文件", "  … see the rejects file for the rest"),
    ("import.reject_line", "  第 {} 行第 {} 列（{}）：{} —— {}", "  line {}, column {} ({}): {} — {}"),
    ("case.head", "{}  {}  {}  逾期 {} 天", "{}  {}  {}  {} DPD"),
    (
        "case.debtor",
        "债务人  {}（{}）  证件 {}  出生 {}  {}  时区 {}",
        "debtor  {} ({})  ID {}  born {}  {}  zone {}",
    ),
    ("case.revealed", "  已显示 {}：{}（已记入账本）", "  revealed {}: {}  (recorded in the ledger)"),
    (
        "case.counts",
        "联系 {} 次，催记 {} 条，承诺 {} 个，分期 {} 个，减免 {} 个，还款 {} 笔",
        "{} attempts, {} notes, {} promises, {} repayment plans, {} waivers, {} payments",
    ),
    ("plan.head", "{} 的计划（策略「{}」，版本 {}）：{}", "plan for {} (strategy {}, version {}): {}"),
    ("plan.more", "…… 另有 {} 条（`--out FILE` 写出全部）", "… and {} more (--out FILE writes them all)"),
    ("plan.strategy", "策略：{}", "strategy: {}"),
    ("plan.saved_strategy", "已保存的策略「{}」第 {} 版", "saved strategy {} v{}"),
    ("plan.default_strategy", "内置策略", "default strategy"),
    ("plan.summary", "计划 {} 条，跳过 {} 条（共 {} 个案件）", "{} planned, {} of {} skipped"),
    ("plan.written", "全部联系动作已写入 {}", "actions written to {}"),
    (
        "plan.stored",
        "已保存为 {} 第 {} 版；重建：`daylight plan --date {} --replay --plan-version {}`",
        "stored as {} version {}; rebuild it with `daylight plan --date {} --replay --plan-version {}`",
    ),
    (
        "strategy.saved",
        "{}：已保存为策略 {} 第 {} 版；未指定 `--strategy` 的计划将使用它",
        "{}: saved as strategy {} version {}; `daylight plan` without --strategy plans under it",
    ),
    (
        "strategy.none",
        "尚未保存策略：计划使用内置策略（`daylight strategy default`）",
        "no strategy saved: plans use the built-in one (`daylight strategy default`)",
    ),
    (
        "experiment.head",
        "实验 {}：{} – {}（95% 区间；p 值相对于 {}）",
        "experiment {}: {} – {} (95 % intervals; p against {})",
    ),
    ("experiment.not_recorded", "未记录", "not recorded"),
    ("warning", "注意：{}", "warning: {}"),
];

/// The catalogue's words for `key` (the key itself when missing: a test catches it).
pub fn t(key: &str) -> &'static str {
    match CATALOGUE.iter().find(|(k, _, _)| *k == key) {
        Some((_, zh, en)) => match lang() {
            Lang::Zh => zh,
            Lang::En => en,
        },
        None => "",
    }
}

/// A sentence from the catalogue with its `{}` filled in order.
pub fn f(key: &str, args: &[&dyn Display]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut parts = t(key).split("{}").peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some()
            && let Some(a) = args.next()
        {
            out.push_str(&a.to_string());
        }
    }
    out
}

/// Column titles by key (`>case` keeps its `>`): for [`crate::output::Table::new`].
pub fn cols(keys: &[&str]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            let (right, key) = k.strip_prefix('>').map_or(("", *k), |k| (">", k));
            format!("{right}{}", t(&format!("col.{key}")))
        })
        .collect()
}

/// A table `stats` counts, in words (its name in English).
pub fn table(name: &str) -> String {
    let key = format!("table.{name}");
    match t(&key) {
        "" => name.to_owned(),
        words => words.to_owned(),
    }
}

/// A vocabulary code (a status, a channel, a role) in words; unchanged in English.
pub fn word(code: &str) -> String {
    match lang() {
        Lang::Zh => i18n::word(Lang::Zh, code),
        Lang::En => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the command line's sources ask for is in the catalogue, in both languages,
    /// with as many `{}` in each.
    #[test]
    fn every_key_used_is_in_the_catalogue() {
        let sources = [
            include_str!("commands.rs"),
            include_str!("plan.rs"),
            include_str!("experiment.rs"),
            include_str!("serve.rs"),
        ];
        let mut used = Vec::new();
        for src in sources {
            for call in ["say::t(\"", "say::f(\""] {
                for part in src.split(call).skip(1) {
                    used.push(part[..part.find('"').unwrap()].to_owned());
                }
            }
            for part in src.split("say::cols(&[").skip(1) {
                let list = &part[..part.find(']').unwrap()];
                for k in list.split(',').map(|k| k.trim().trim_matches('"').trim_start_matches('>')) {
                    if !k.is_empty() {
                        used.push(format!("col.{k}"));
                    }
                }
            }
        }
        assert!(used.len() > 30, "the sources use the catalogue: {used:?}");
        for k in &used {
            assert!(CATALOGUE.iter().any(|(key, _, _)| key == k), "{k} is not in the catalogue");
        }
        for (k, zh, en) in CATALOGUE {
            assert_eq!(zh.matches("{}").count(), en.matches("{}").count(), "{k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn a_sentence_takes_its_arguments_in_order() {
        choose(Some("en"));
        assert_eq!(f("ledger.head", &[&3, &"ab"]), "head 3:ab");
        assert_eq!(cols(&["case", ">dpd"]), ["case", ">dpd"]);
    }
}
