//! The library never prints, exits, reads the environment or uses CLI crates (STYLE §3):
//! this scans its sources and fails on a breach.

const LIBRARY: &[&str] = &[
    "src/lib.rs",
    "src/names.rs",
    "src/digest.rs",
    "src/progress.rs",
    "src/manifest",
    "src/archive",
    "src/signing",
    "src/train",
];
const FORBIDDEN: &[&str] = &[
    "println!",
    "eprintln!",
    "print!(",
    "eprint!(",
    "process::exit",
    "std::env::",
    "env::var",
    "clap::",
    "anyhow",
    "indicatif",
    "dbg!(",
];

fn sources(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            sources(&e.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_owned());
    }
}

#[test]
fn library_modules_do_not_print_exit_or_read_the_environment() {
    let mut files = Vec::new();
    for p in LIBRARY {
        let p = crate::common::root().join(p);
        if p.exists() {
            sources(&p, &mut files);
        }
    }
    assert!(files.len() > 10);
    let mut breaches = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        // test modules may use what they like
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            let l = line.trim_start();
            if l.starts_with("//") {
                continue;
            }
            for bad in FORBIDDEN {
                if l.contains(bad) && !l.contains("env!(") {
                    breaches.push(format!("{}:{}: {bad}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "library code breaks the layering rules:\n{}",
        breaches.join("\n")
    );
}
