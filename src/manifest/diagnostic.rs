//! Diagnostics: what `validate` reports, and the registry of stable codes.
//!
//! Every code is defined once in [`Code`], with its default severity and a one-line summary;
//! `docs/EXPERT_FORMAT.md` lists them all and a test keeps the two in step.

use serde::Serialize;
use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Information; never fails a run, not even with `--strict`.
    Note,
    /// Fails a run only with `--strict`.
    Warning,
    /// Fails the run.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $summary:literal; )*) => {
        /// The stable diagnostic codes. The string form (`E0101`) never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $( #[doc = $summary] $variant, )* }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            /// The stable string form.
            pub fn as_str(self) -> &'static str { match self { $(Code::$variant => $code,)* } }
            /// The severity a diagnostic with this code gets.
            pub fn severity(self) -> Severity { match self { $(Code::$variant => Severity::$sev,)* } }
            /// One line saying what the code means.
            pub fn summary(self) -> &'static str { match self { $(Code::$variant => $summary,)* } }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "the file is not valid JSON (or not UTF-8)";
    DuplicateKey = "E0002", Error, "a key occurs twice in one object";
    DuplicateComment = "W0002", Warning, "a `_` comment key occurs twice in one object";
    NotObject = "E0003", Error, "the top level is not a JSON object";
    NoManifest = "E0004", Error, "a folder given to `validate` has no manifest.json";
    Unreadable = "E0005", Error, "a path given to `validate` cannot be read (exit code 7)";
    SchemaVersion = "E0101", Error, "`schema_version` is not \"1.0\" or \"2.0\" (\"1\" is read as 1.0; a 2.0 manifest must say \"2.0\", which is all the expert runtime reads as 2.0)";
    BaseModelConflict = "E0102", Error, "both `base_model` and `base_models` are present";
    NoBaseModel = "E0103", Error, "neither `base_model` nor `base_models` is present";
    InferredVersion = "N0101", Note, "`schema_version` is absent from a 1.0 manifest, which is what the shape says";
    Required = "E0201", Error, "a required field is missing or null";
    Type = "E0202", Error, "a field has the wrong JSON type";
    Enum = "E0203", Error, "a field's value is not one of the allowed values";
    Range = "E0204", Error, "a number is outside its allowed range";
    Empty = "E0205", Error, "a string or list that must not be empty is empty";
    Format = "E0206", Error, "a string does not have the required format";
    RuntimeRequired = "E0207", Error, "a key the expert runtime's loader requires is missing (or null)";
    RuntimeInteger = "E0208", Error, "an integer the expert runtime reads is a fraction, negative or too large for its type";
    UnknownKey = "W0201", Warning, "a key the format does not define (kept as is)";
    LooseType = "W0202", Warning, "a value of an unusual type that is accepted for compatibility";
    UnknownValue = "W0203", Warning, "a value outside the documented set, accepted for compatibility";
    Recommended = "W0204", Warning, "a recommended field is missing";
    Name = "E0301", Error, "`name` is not a safe lower-case package name";
    NamePrefix = "W0301", Warning, "`name` does not start with `expert-`";
    Version = "E0302", Error, "`version` is not a semantic version (MAJOR.MINOR.PATCH)";
    DuplicateModel = "E0401", Error, "two base models share a name";
    SlugCollision = "W0404", Warning, "two base models share a slug, so `--model` needs the full name";
    NoAdapters = "E0402", Error, "a base model has no adapters";
    NonPortableModel = "W0401", Warning, "a base model name is a machine-specific absolute path";
    TemplateFamily = "W0405", Warning, "a base model's `prompt_template` is another model family's chat template";
    MisplacedAdapters = "W0403", Warning, "schema 2.0 has root `adapters`, which only schema 1.0 reads";
    RankRequired = "E0403", Error, "a rank-based adapter type lacks `r`/`rank` or `alpha`";
    AdapterTypeMismatch = "W0402", Warning, "`training.config.adapter_type` differs from the adapters' `type`";
    Sha256 = "E0404", Error, "a `sha256` is neither empty nor 64 hex digits";
    UnsafePath = "E0501", Error, "a path is absolute, leaves the expert folder, or is not portable";
    DatasetSource = "E0601", Error, "`training.dataset` names no `path`, `tasks` or `generation`";
    GeneratedIntegrity = "W0601", Warning, "the author's manifest has an `integrity` section, which packaging replaces";
    UnreadablePackage = "E0700", Error, "the package cannot be read safely (corrupt, truncated or hostile)";
    PackageMember = "E0701", Error, "a member the manifest needs is missing from the package or folder";
    PackageDigest = "E0702", Error, "a member's size or SHA-256 differs from what the manifest says";
    PackageIntegrity = "E0703", Error, "the packaged manifest's `integrity` does not match the members";
    NoIntegrity = "W0701", Warning, "the packaged manifest has no `integrity` section";
    AdapterMismatch = "E0704", Error, "`adapter_config.json` contradicts the manifest's adapter, or is not a PEFT config";
    NoAdapter = "W0702", Warning, "an expert folder has no adapter for a base model";
    NonCanonicalPackage = "E0705", Error, "the package is not byte for byte what `expert-cli package` writes (another tool built it, or it was altered)";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding about a manifest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// The stable code.
    pub code: Code,
    /// RFC 6901 pointer of the value concerned (`""` for the whole document).
    pub pointer: String,
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column in the file.
    pub column: usize,
    /// What is wrong, a lower-case sentence.
    pub message: String,
    /// What to do about it, when we know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The diagnostics of one file, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// True when any diagnostic is an error (or, with `strict`, a warning).
    pub fn fails(&self, strict: bool) -> bool {
        self.0
            .iter()
            .any(|d| d.severity == Severity::Error || (strict && d.severity == Severity::Warning))
    }
    /// How many diagnostics have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|d| d.severity == severity).count()
    }
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Error)
    }
    /// Sorts by position, keeping the order of diagnostics at the same place.
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| (d.line, d.column));
    }
}
