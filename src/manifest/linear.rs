//! Regression test for issue #10.3: reading a manifest takes time linear in its size.
//!
//! No clocks (a loaded machine would make them flaky): the library counts its own work where
//! the work for one item could depend on the rest of the file ([`super::work`]: key comparisons
//! in the duplicate search, bytes scanned for columns, bytes of JSON pointers, character pairs
//! of the did-you-mean search). Each hostile shape of the issue is checked at one size and at
//! four times that size: linear work grows about 4×, the quadratic code this replaced grew 16×
//! (a column counted from the start of a 4× longer line, 4× more keys compared with 4× more
//! earlier keys, 4× more elements copying a 4× longer key). Full-size timings are in
//! `benches/manifest_bench.sh`.

use super::{check_bytes, work, Role};

/// One key per line: `{"k0000000": 0,\n …}` (the duplicate-key search).
fn lines(n: usize) -> String {
    let keys: Vec<String> = (0..n).map(|i| format!("\"k{i:07}\": 0")).collect();
    format!("{{\n{}\n}}\n", keys.join(",\n"))
}

/// The same keys on one line (a column per unknown-key warning).
fn wide(n: usize) -> String {
    let keys: Vec<String> = (0..n).map(|i| format!("\"k{i:07}\": 0")).collect();
    format!("{{{}}}\n", keys.join(", "))
}

/// One long key holding an array of zeros (a pointer per element).
fn deep(n: usize) -> String {
    format!(
        "{{\"{}\": [{}]}}\n",
        "k".repeat(10 * n),
        vec!["0"; 5 * n].join(",")
    )
}

/// Objects with a duplicate key each, below one long key (a pointer per duplicate).
fn nested_duplicates(n: usize) -> String {
    let objects = vec!["{\"a\": 0, \"a\": 1}"; n / 2];
    format!("{{\"{}\": [{}]}}\n", "k".repeat(10 * n), objects.join(","))
}

/// Unknown keys that are long and close to each other and to real field names.
fn long_unknown_keys(n: usize) -> String {
    let keys: Vec<String> = (0..n / 50)
        .map(|i| format!("\"learning_rate_{}{i}\": 0", "x".repeat(400)))
        .collect();
    format!("{{{}}}\n", keys.join(", "))
}

/// The units of work and the diagnostics of checking `text`.
fn measure(text: &str) -> (u64, usize) {
    work::take();
    let checked = check_bytes(text.as_bytes(), Role::Authored);
    (work::take(), checked.diagnostics.0.len())
}

#[test]
fn reading_is_linear_in_the_size_of_the_manifest() {
    type Make = fn(usize) -> String;
    let shapes: [(&str, Make); 5] = [
        ("keys one per line", lines),
        ("keys on one line", wide),
        ("a long key holding zeros", deep),
        ("duplicates below a long key", nested_duplicates),
        ("long unknown keys", long_unknown_keys),
    ];
    for (name, make) in shapes {
        let (small, large) = (make(4_000), make(16_000));
        let (w_small, d_small) = measure(&small);
        let (w_large, d_large) = measure(&large);
        assert!(
            d_small > 0 && d_large > 0,
            "{name}: {d_small}, {d_large} diagnostics"
        );
        let ratio = w_large as f64 / w_small.max(1) as f64;
        assert!(
            ratio < 5.0,
            "{name}: 4× the input took {ratio:.1}× the work ({w_small} → {w_large} units)"
        );
        assert!(
            w_large <= 64 * large.len() as u64,
            "{name}: {w_large} units of work for {} bytes",
            large.len()
        );
    }
}

#[test]
fn the_meter_sees_quadratic_work() {
    // The meter itself: a column counted from the start of the line for each of n keys on one
    // line would be n²/2 units; the table keeps it to at most one block per lookup.
    let text = wide(2_000);
    let index = super::source::LineIndex::new(&text);
    work::take();
    for offset in (0..text.len()).step_by(13) {
        index.locate(&text, offset);
    }
    let per_lookup = work::take() as f64 / (text.len() / 13) as f64;
    assert!(
        per_lookup <= (2 * super::source::LineIndex::BLOCK + 64) as f64,
        "{per_lookup} units per lookup"
    );
}
