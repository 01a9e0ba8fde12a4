//! `docs/configuration.md` quotes the library's error messages; every quote is
//! checked here against the real message, and its policy list against the
//! names the config accepts, so the page cannot drift from the code.

use std::time::Duration;

use tenure::policy::LruBound;
use tenure::{Cache, CacheConfig};

const PAGE: &str = include_str!("../../docs/configuration.md");

/// The page's text from the heading `start` to the next heading of the same level.
fn section(start: &str) -> &'static str {
    let from = PAGE
        .find(start)
        .unwrap_or_else(|| panic!("no section {start:?}"));
    let level = start.split(' ').next().unwrap();
    let rest = &PAGE[from + start.len()..];
    let end = rest.find(&format!("\n{level} ")).unwrap_or(rest.len());
    &rest[..end]
}

/// The fenced blocks of a section, with their language tag.
fn fences(text: &str) -> Vec<(&str, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(lang) = line.strip_prefix("```") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            blocks.push((lang, body.join("\n")));
        }
    }
    blocks
}

/// Each (input, error) pair: a block of `lang` followed by a `text` block.
fn examples(section_heading: &str, lang: &str) -> Vec<(String, String)> {
    let blocks = fences(section(section_heading));
    assert!(blocks.len() >= 2, "{section_heading}: no examples");
    blocks
        .chunks(2)
        .map(|pair| {
            assert_eq!((pair[0].0, pair[1].0), (lang, "text"), "{section_heading}");
            (pair[0].1.clone(), pair[1].1.clone())
        })
        .collect()
}

/// The rows of the first table in a section: its cells, header and rule skipped.
fn table_rows(section_heading: &str, after: &str) -> Vec<Vec<String>> {
    let text = section(section_heading);
    let text = &text[text.find(after).expect("the table's lead-in")..];
    text.lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| {
            row.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect()
}

/// The text of a cell quoted as `` message ``.
fn quoted_message(cell: &str) -> &str {
    cell.strip_prefix("`` ")
        .and_then(|c| c.strip_suffix(" ``"))
        .unwrap_or_else(|| panic!("not a quoted message: {cell}"))
}

#[test]
fn every_config_error_quoted_is_the_real_message() {
    let rows = table_rows("### Checked by `to_policy()`", "| config |");
    assert!(rows.len() >= 10, "{rows:?}");
    for row in rows {
        // `policy = "lru"`, `max_capacity = 0` → one TOML line per part.
        let toml_text: String = row[0]
            .split("`, `")
            .map(|part| part.trim_matches('`').to_string() + "\n")
            .collect();
        let config: CacheConfig = toml::from_str(&toml_text)
            .unwrap_or_else(|e| panic!("{toml_text} does not parse: {e}"));
        let err = config
            .to_policy()
            .map(|_| ())
            .and_then(|()| Cache::<u32, u32>::from_config(&config).map(|_| ()))
            .expect_err(&toml_text);
        assert_eq!(
            err.to_string(),
            quoted_message(&row[1]),
            "config:\n{toml_text}"
        );
    }
}

#[test]
fn the_builder_errors_quoted_are_the_real_messages() {
    let rows = table_rows("### Checked by `to_policy()`", "The builder's own errors");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let unbounded = Cache::<u32, u32>::builder()
        .build()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(unbounded.to_string(), quoted_message(&rows[0][1]));
    let custom = Cache::<u32, u32>::builder()
        .time_to_idle(Duration::from_secs(1))
        .policy(LruBound::new(10).unwrap())
        .build()
        .map(|_| ())
        .unwrap_err();
    assert_eq!(custom.to_string(), quoted_message(&rows[1][1]));
}

#[test]
fn every_toml_parse_error_quoted_is_the_real_message() {
    for (input, quoted) in examples("### Rejected while parsing (TOML)", "toml") {
        let err = toml::from_str::<CacheConfig>(&input).expect_err(&input);
        assert_eq!(err.to_string().trim_end(), quoted, "input:\n{input}");
    }
}

#[test]
fn every_json_parse_error_quoted_is_the_real_message() {
    for (input, quoted) in examples("### Rejected while parsing (JSON)", "json") {
        let err = serde_json::from_str::<CacheConfig>(&input).expect_err(&input);
        assert_eq!(err.to_string(), quoted, "input:\n{input}");
    }
}

/// The policy names the config accepts, as serde lists them when it meets an
/// unknown one.
fn accepted_policy_names() -> Vec<String> {
    let err = toml::from_str::<CacheConfig>("policy = \"?\"").unwrap_err();
    let message = err.to_string();
    let list = &message[message.find("expected one of").expect(&message)..];
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_fields_table_lists_every_policy_name_and_alias_the_config_accepts() {
    let names = accepted_policy_names();
    assert!(names.len() >= 7, "{names:?}");
    let policy_row = section("## Fields")
        .lines()
        .find(|l| l.starts_with("| `policy` |"))
        .expect("the policy row");
    for name in &names {
        assert!(
            policy_row.contains(&format!("`\"{name}\"`")),
            "{name} is accepted but not listed: {policy_row}"
        );
        // And each one really loads.
        let config: CacheConfig = toml::from_str(&format!(
            "policy = \"{name}\"\nmax_capacity = 10\ntime_to_idle = \"1h\"\n"
        ))
        .unwrap();
        let _ = config.to_policy();
    }
}
