//! Where a secret key and its passphrase come from (the binary's side; the library only takes
//! bytes): `--key FILE` or `--key-env VAR`, and for an encrypted key the passphrase from
//! `EXPERT_CLI_KEY_PASSPHRASE`, else from a prompt with echo off on the terminal (`/dev/tty`).
//! Never a prompt without a terminal: CI gets an error that names the variable to set.

use crate::env::EXPERT_CLI_KEY_PASSPHRASE;
use crate::error::CliError;
use crate::exit::ExitStatus;
use expert_cli::signing::keys::Zeroizing;
use expert_cli::signing::{self, KeyError, SecretKey};
use std::path::{Path, PathBuf};

/// The secret key `sign` signs with, from `--key FILE` or `--key-env VAR` (exactly one is
/// `Some`; clap enforces it). An encrypted key is decrypted with the passphrase from
/// [`passphrase`].
///
/// Errors say what was given and what is needed: a public key names the secret key file
/// `keygen` wrote beside it; a missing passphrase without a terminal names
/// `EXPERT_CLI_KEY_PASSPHRASE`.
pub fn secret_key(key: Option<&Path>, key_env: Option<&str>) -> Result<SecretKey, CliError> {
    secret_key_with(key, key_env, |what| passphrase(what, Confirm::Once))
}

/// [`secret_key`] with the passphrase from `ask` (given the key's label, e.g. "`k.pem`").
fn secret_key_with(
    key: Option<&Path>,
    key_env: Option<&str>,
    ask: impl FnOnce(&str) -> Result<Zeroizing<Vec<u8>>, CliError>,
) -> Result<SecretKey, CliError> {
    let (bytes, source) = match (key, key_env) {
        (Some(path), _) => (
            signing::read_key_file(path).map_err(CliError::from)?,
            Source::File(path),
        ),
        (None, Some(var)) => {
            let value = std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    CliError::new(
                        ExitStatus::Usage,
                        format!("environment variable `{var}` is not set or empty"),
                    )
                    .hint("put the private key's PEM text in it, e.g. from a CI secret")
                })?;
            (
                Zeroizing::new(value.as_encoded_bytes().to_vec()),
                Source::Env(var),
            )
        }
        (None, None) => {
            return Err(CliError::new(ExitStatus::Usage, "sign needs a key")
                .hint("pass --key FILE or --key-env VAR"))
        }
    };
    let read = match signing::read_secret_key(&bytes) {
        Err(KeyError::EncryptedSecretKey) => {
            let pass = ask(&source.label())?;
            signing::read_secret_key_with_passphrase(&bytes, &pass)
        }
        other => other,
    };
    read.map_err(|e| source.error(e))
}

/// Where the key bytes came from, for messages.
enum Source<'a> {
    File(&'a Path),
    Env(&'a str),
}

impl Source<'_> {
    fn label(&self) -> String {
        match self {
            Source::File(path) => format!("`{}`", path.display()),
            Source::Env(var) => format!("the key in `{var}`"),
        }
    }

    fn error(&self, e: KeyError) -> CliError {
        match (self, e) {
            (Source::File(path), KeyError::PublicKeyGiven { .. }) => {
                let secret = secret_key_beside(path);
                CliError::new(
                    ExitStatus::Invalid,
                    format!(
                        "`{}` is a public key; `sign` needs the secret key `{}`",
                        path.display(),
                        secret.display()
                    ),
                )
                .hint("`expert-cli keygen --output K.pem` writes the secret key `K.pem` (mode 0600) beside `K.pub` and `K.minisign.pub`")
            }
            (Source::Env(var), KeyError::PublicKeyGiven { what }) => CliError::new(
                ExitStatus::Invalid,
                format!("`{var}` holds {what}; `sign` needs the secret key"),
            )
            .hint("put the secret key's PEM text (the `.pem` file keygen wrote) in it"),
            (_, KeyError::WrongPassphrase) => CliError::new(
                ExitStatus::Invalid,
                format!("the passphrase for {} is wrong", self.label()),
            )
            .hint(format!(
                "check `{EXPERT_CLI_KEY_PASSPHRASE}` (used exactly as set, without trimming) or type it again"
            )),
            (Source::File(path), e) => CliError::from(KeyError::File {
                path: path.to_path_buf(),
                source: Box::new(e),
            }),
            (Source::Env(var), e) => CliError::new(
                ExitStatus::Invalid,
                format!("`{var}` does not hold a usable private key: {e}"),
            ),
        }
    }
}

/// The secret key `keygen --output K.pem` wrote beside a public key file: `K.pub` and
/// `K.minisign.pub` → `K.pem`.
fn secret_key_beside(public: &Path) -> PathBuf {
    let name = public
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".minisign.pub")
        .or_else(|| name.strip_suffix(".pub"))
        .unwrap_or(&name);
    public.with_file_name(format!("{stem}.pem"))
}

/// Whether a new passphrase is asked twice.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Once: unlocking an existing key.
    Once,
    /// Twice, both must match: protecting a new key.
    Twice,
}

/// The passphrase for `what` (e.g. "`k.pem`"): `EXPERT_CLI_KEY_PASSPHRASE` when set (its bytes
/// exactly, as `openssl -passin env:` uses them), else asked on the terminal with echo off
/// (`Confirm::Twice`: asked again and compared). Never asks without a terminal.
pub fn passphrase(what: &str, confirm: Confirm) -> Result<Zeroizing<Vec<u8>>, CliError> {
    if let Some(value) = std::env::var_os(EXPERT_CLI_KEY_PASSPHRASE) {
        if value.is_empty() {
            return Err(CliError::new(
                ExitStatus::Usage,
                format!("`{EXPERT_CLI_KEY_PASSPHRASE}` is set but empty"),
            )
            .hint("set it to the key's passphrase, or unset it to be asked on the terminal"));
        }
        return Ok(Zeroizing::new(value.as_encoded_bytes().to_vec()));
    }
    if !has_terminal() {
        let action = match confirm {
            Confirm::Once => "is encrypted",
            Confirm::Twice => "is to be encrypted",
        };
        return Err(CliError::new(
            ExitStatus::Usage,
            format!("{what} {action} and no passphrase was given: set {EXPERT_CLI_KEY_PASSPHRASE}"),
        )
        .hint("without a terminal expert-cli never asks; in CI put the passphrase in a secret exposed as that variable"));
    }
    let ask = |prompt: String| {
        rpassword::prompt_password(prompt)
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    CliError::new(ExitStatus::Interrupted, "interrupted")
                } else {
                    CliError::new(
                        ExitStatus::Io,
                        format!(
                            "cannot read the passphrase from the terminal: {}",
                            crate::error::io_reason(&e)
                        ),
                    )
                    .hint(format!("set {EXPERT_CLI_KEY_PASSPHRASE} instead"))
                }
            })
    };
    let first = match confirm {
        Confirm::Once => ask(format!("Passphrase for {what}: "))?,
        Confirm::Twice => ask(format!("New passphrase for {what}: "))?,
    };
    if first.is_empty() {
        return Err(CliError::new(ExitStatus::Usage, "the passphrase is empty")
            .hint("type a passphrase, or leave out --encrypt for an unencrypted key"));
    }
    if confirm == Confirm::Twice {
        let again = ask("Same passphrase again: ".to_owned())?;
        if *again != *first {
            return Err(
                CliError::new(ExitStatus::Usage, "the two passphrases differ")
                    .hint("run the command again and type the same passphrase twice"),
            );
        }
    }
    Ok(first)
}

/// Whether there is a terminal to ask on: the controlling terminal can be opened (it cannot
/// in CI, under `setsid`, in cron or in a container without `-t`).
fn has_terminal() -> bool {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_passphrase(_: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
        panic!("no passphrase should be asked for")
    }

    #[test]
    fn errors_name_what_was_given_and_what_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let sk = SecretKey::from_seed(&[5; 32]);
        let k = dir.path().join("k.pem");
        let info = signing::write_keypair_with(&sk, &k, None, false).unwrap();
        let read = secret_key_with(Some(&k), None, no_passphrase).unwrap();
        assert_eq!(read.public_key(), sk.public_key());
        for public in [&info.public_path, &info.minisign_public_path] {
            let e = secret_key_with(Some(public), None, no_passphrase).unwrap_err();
            assert_eq!(
                e.message,
                format!(
                    "`{}` is a public key; `sign` needs the secret key `{}`",
                    public.display(),
                    k.display()
                )
            );
            assert_eq!(e.status, ExitStatus::Invalid);
        }
        let garbage = dir.path().join("g.pem");
        std::fs::write(&garbage, "hello").unwrap();
        let e = secret_key_with(Some(&garbage), None, no_passphrase).unwrap_err();
        assert!(
            e.message.starts_with(&format!(
                "cannot use key file `{}`: unrecognised secret key",
                garbage.display()
            )),
            "{}",
            e.message
        );
    }

    #[test]
    fn encrypted_keys_ask_once_and_report_a_wrong_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let sk = SecretKey::from_seed(&[6; 32]);
        let k = dir.path().join("k.pem");
        std::fs::write(&k, sk.to_encrypted_pkcs8_pem(b"pw").unwrap().as_bytes()).unwrap();
        let mut asked = Vec::new();
        let read = secret_key_with(Some(&k), None, |what| {
            asked.push(what.to_owned());
            Ok(Zeroizing::new(b"pw".to_vec()))
        })
        .unwrap();
        assert_eq!(read.public_key(), sk.public_key());
        assert_eq!(asked, [format!("`{}`", k.display())]);
        let e =
            secret_key_with(Some(&k), None, |_| Ok(Zeroizing::new(b"nope".to_vec()))).unwrap_err();
        assert_eq!(
            e.message,
            format!("the passphrase for `{}` is wrong", k.display())
        );
        // the asker's own error (no terminal, no variable) is passed through as it is
        let e = secret_key_with(Some(&k), None, |what| {
            Err(CliError::new(
                ExitStatus::Usage,
                format!("{what} is encrypted"),
            ))
        })
        .unwrap_err();
        assert_eq!(e.status, ExitStatus::Usage);
    }

    #[test]
    fn secret_key_beside_a_public_key() {
        let p = |s: &str| secret_key_beside(Path::new(s)).display().to_string();
        assert_eq!(p("k.pub"), "k.pem");
        assert_eq!(p("dir/k.minisign.pub"), "dir/k.pem");
        assert_eq!(p("a.b.pub"), "a.b.pem");
        assert_eq!(p("key"), "key.pem");
    }
}
