//! `package`: one deterministic `.expert` for one base model, written through a temporary
//! file and renamed; then the `.sha256` sidecar. `--list-contents` prints the same plan and
//! writes nothing.

use crate::cli::{Format, PackageArgs};
use crate::error::{io_reason, CliError};
use crate::exit::ExitStatus;
use crate::render::{progress::Bar, Ui};
use expert_cli::archive::expert::{self, PackageError, PackageOptions};
use expert_cli::archive::{self, AtomicError, AtomicFile, PlanError, WriteOptions};
use expert_cli::manifest;
use expert_cli::names;
use serde_json::json;
use std::path::{Path, PathBuf};

pub fn run(args: PackageArgs, ui: &Ui) -> Result<ExitStatus, CliError> {
    let (manifest, warnings) = manifest::load(&args.manifest)?;
    super::print_warnings(ui, &args.manifest, &warnings);
    let model = manifest::select::select(&manifest, args.model.as_deref())
        .map_err(|e| crate::error::select_error(&args.manifest, &manifest.base_models, e))?;
    let root = super::folder_of(&args.manifest);
    let created_at = super::source_date_epoch()?;
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(names::package_file_name(
            &manifest.name,
            &model.name,
            &manifest.version,
        ))
    });
    if !args.list_contents {
        match archive::check_output_free(&output, args.force) {
            Err(AtomicError::NoParent { .. }) => {} // created below, once the plan holds
            other => other.map_err(atomic_error)?,
        }
        check_sidecar_name(&output)?;
    }
    let opts = PackageOptions {
        weights: args.weights.clone(),
        include_tests: args.include_tests,
        include_pickle: args.include_pickle,
        created_at,
    };
    ui.status(
        "Packaging",
        &format!("{} v{} for {}", manifest.name, manifest.version, model.name),
    );
    let plan = expert::plan(&manifest, model, &root, &opts).map_err(package_error)?;
    ui.note(&format!("adapter from `{}`", plan.adapter_dir.display()));

    if args.list_contents {
        list(ui, &plan);
        return Ok(ExitStatus::Success);
    }

    if let Some(dir) = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        std::fs::create_dir_all(dir).map_err(|e| CliError::io("create the folder", dir, &e))?;
    }
    let mut file = AtomicFile::create(&output, args.force).map_err(atomic_error)?;
    crate::interrupt::guard(file.temp_path());
    let temp = file.temp_path().to_owned();
    let total: u64 = plan.members.iter().map(|m| m.size).sum();
    let mut bar = Bar::new(ui.stderr_is_terminal() && total > 8 << 20);
    let wopts = WriteOptions {
        mtime: created_at,
        level: args.compression_level,
        ..WriteOptions::default()
    };
    let written = archive::write_members(&plan.members, &mut file, &wopts, &mut bar);
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            crate::interrupt::forget(&temp);
            return Err(plan_error(e));
        }
    };
    // An old sidecar would describe the old file: remove it before the new file appears.
    let sidecar = archive::sidecar_path(&output);
    if args.force {
        let _ = std::fs::remove_file(&sidecar);
    }
    let committed = file.commit();
    crate::interrupt::forget(&temp);
    committed.map_err(atomic_error)?;
    archive::write_sidecar(&output, &summary.sha256).map_err(|e| {
        CliError::new(
            ExitStatus::Io,
            format!("the package was written but its sidecar was not: {e}"),
        )
    })?;

    if ui.format == Format::Json {
        ui.json(&json!({
            "path": output.display().to_string(),
            "sidecar": sidecar.display().to_string(),
            "size": summary.size,
            "sha256": summary.sha256,
            "name": manifest.name,
            "version": manifest.version,
            "base_model": model.name,
            "slug": model.slug,
            "members": summary.members.iter().map(|m| json!({"path": m.path, "size": m.size, "sha256": m.sha256})).collect::<Vec<_>>(),
        }));
    } else {
        ui.status(
            "Finished",
            &format!(
                "`{}` ({}, {} members)",
                output.display(),
                human(summary.size),
                summary.members.len()
            ),
        );
        ui.outln(&format!("{}  {}", summary.sha256, output.display()));
    }
    Ok(ExitStatus::Success)
}

fn list(ui: &Ui, plan: &expert::PackagePlan) {
    if ui.format == Format::Json {
        ui.json(&json!({
            "base_model": plan.model.name,
            "adapter_dir": plan.adapter_dir.display().to_string(),
            "members": plan.members.iter().map(|m| json!({"path": m.path, "size": m.size, "sha256": m.sha256})).collect::<Vec<_>>(),
        }));
        return;
    }
    let mut out = String::new();
    for m in &plan.members {
        out.push_str(&format!("{}  {:>12}  {}\n", m.sha256, m.size, m.path));
    }
    ui.out(&out);
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Refuses, before anything is written, an output whose name the `.sha256` sidecar cannot hold
/// (shared with `sign`): otherwise the package would be written and its sidecar then fail.
pub fn check_sidecar_name(output: &Path) -> Result<(), CliError> {
    archive::check_sidecar_name(output).map_err(|_| {
        CliError::new(
            ExitStatus::Usage,
            format!(
                "`{}` cannot be named in its .sha256 sidecar: the file name contains a newline, carriage return or backslash",
                output.display().to_string().escape_debug()
            ),
        )
        .hint("choose a file name without those characters")
    })
}

/// The error for a refused or failed atomic write.
pub fn atomic_error(e: AtomicError) -> CliError {
    match e {
        AtomicError::OutputExists { path } => CliError::new(
            ExitStatus::Exists,
            format!("`{}` already exists", path.display()),
        )
        .hint("pass --force to replace it, or choose another --output"),
        AtomicError::Io { path, source } => CliError::new(
            ExitStatus::Io,
            format!("cannot write `{}`: {}", path.display(), io_reason(&source)),
        ),
        other => CliError::new(ExitStatus::Io, other.to_string()),
    }
}

fn plan_error(e: PlanError) -> CliError {
    match e {
        PlanError::Symlink { .. } | PlanError::NotRegularFile { .. } => {
            CliError::new(ExitStatus::Invalid, e.to_string())
        }
        PlanError::Changed { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
            .hint("a file changed while it was packed; run again when it is stable"),
        other => CliError::new(ExitStatus::Io, other.to_string()),
    }
}

fn package_error(e: PackageError) -> CliError {
    match e {
        PackageError::NoAdapter { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
            .hint("train the adapter first (`expert-cli train`), or pass --weights DIR"),
        PackageError::Symlink { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
            .hint("replace the link with the file itself"),
        PackageError::Duplicate { .. } => {
            CliError::new(ExitStatus::Invalid, e.to_string()).hint("rename one of the files")
        }
        PackageError::Missing { .. } => CliError::new(ExitStatus::Invalid, e.to_string())
            .hint("add the file, or remove its entry from the manifest"),
        PackageError::Plan(p) => plan_error(p),
        PackageError::Io { .. } => CliError::new(ExitStatus::Io, e.to_string()),
        other => CliError::new(ExitStatus::Invalid, other.to_string()),
    }
}
