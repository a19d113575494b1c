//! The Rust side: finds the functions of the Rust corpus cases with `syn`, generates the case
//! list that harness/rust/ (the `connlint-harness-cases` package) includes, and builds it
//! against the real pool crates under `target/harness/rust/`.
//!
//! A case function is a top-level `pub fn` or `pub async fn` without generic parameters. It
//! takes the pool by a parameter whose type is a pool (`&PgPool`, `sqlx::SqlitePool`,
//! `&r2d2::Pool<..>`, `&deadpool_postgres::Pool`, `&bb8::Pool<..>`: a type whose last path
//! segment ends in `Pool`), by reference or by value (a clone); every other parameter must be an
//! integer (given `1`), `bool` (`false`), `&str` or `String` (`"x"`). A function that is not
//! `pub` is a helper and is not called on its own.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use syn::spanned::Spanned;

use crate::driver::FnInfo;

/// A Rust runtime the case crate supports: the `support::Calls` variant and the pool type the
/// generated wrappers take.
pub struct RustRuntime {
    pub name: &'static str,
    variant: &'static str,
    pool_type: &'static str,
}

pub const RUST_RUNTIMES: &[RustRuntime] = &[
    RustRuntime {
        name: "sqlx-postgres",
        variant: "SqlxPostgres",
        pool_type: "sqlx::PgPool",
    },
    RustRuntime {
        name: "sqlx-sqlite",
        variant: "SqlxSqlite",
        pool_type: "sqlx::SqlitePool",
    },
    RustRuntime {
        name: "r2d2-sqlite",
        variant: "R2d2Sqlite",
        pool_type: "r2d2::Pool<r2d2_sqlite::SqliteConnectionManager>",
    },
    RustRuntime {
        name: "deadpool-postgres",
        variant: "DeadpoolPostgres",
        pool_type: "deadpool_postgres::Pool",
    },
    RustRuntime {
        name: "bb8-postgres",
        variant: "Bb8Postgres",
        pool_type: "support::pools::Bb8PgPool",
    },
];

pub fn rust_runtime(name: &str) -> Option<&'static RustRuntime> {
    RUST_RUNTIMES.iter().find(|r| r.name == name)
}

/// One function of a case file and how to call it.
#[derive(Debug)]
pub struct CaseFn {
    pub info: FnInfo,
    pub is_async: bool,
    /// The argument expressions, in order (`&pool`, `pool.clone()`, `1`, ...).
    pub args: Vec<String>,
    pub returns_result: bool,
}

fn last_segment(ty: &syn::Type) -> Option<(String, &syn::PathSegment)> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => {
            let seg = p.path.segments.last()?;
            Some((seg.ident.to_string(), seg))
        }
        syn::Type::Group(g) => last_segment(&g.elem),
        syn::Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

enum Arg {
    Pool(String),
    Value(String),
}

/// The argument for one parameter, or why there is none.
fn argument(ty: &syn::Type) -> Result<Arg, String> {
    let (inner, by_ref, by_mut) = match ty {
        syn::Type::Reference(r) => (&*r.elem, true, r.mutability.is_some()),
        other => (other, false, false),
    };
    if let syn::Type::Path(_) = inner {
        if let Some((name, _)) = last_segment(inner) {
            if name.ends_with("Pool") {
                return match (by_ref, by_mut) {
                    (true, false) => Ok(Arg::Pool("&pool".into())),
                    (false, _) => Ok(Arg::Pool("pool.clone()".into())),
                    (true, true) => Err("takes the pool by `&mut`".into()),
                };
            }
            let value = match (name.as_str(), by_ref) {
                (
                    "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                    | "u128" | "usize",
                    false,
                ) => Some("1"),
                ("bool", false) => Some("false"),
                ("str", true) if !by_mut => Some("\"x\""),
                ("String", false) => Some("String::from(\"x\")"),
                _ => None,
            };
            if let Some(v) = value {
                return Ok(Arg::Value(v.into()));
            }
        }
    }
    Err(format!(
        "no value for a parameter of type `{}`",
        quote_type(ty)
    ))
}

fn quote_type(ty: &syn::Type) -> String {
    use quote::ToTokens;
    ty.to_token_stream().to_string()
}

/// A return type that borrows (from the pool the wrapper owns) cannot leave the wrapper.
fn borrows(ty: &syn::Type) -> bool {
    let text = quote_type(ty);
    // Ex) `&'static mut Connection` is fine; `PooledConnection<'_, M>` and `&Conn` are not.
    let mut rest = text.as_str();
    while let Some(i) = rest.find('\'') {
        let after = &rest[i + 1..];
        if !after.starts_with("static") {
            return true;
        }
        rest = after;
    }
    text.split('&')
        .skip(1)
        .any(|after| !after.trim_start().starts_with("'static"))
}

/// The functions of one case file, callable or skipped (with the reason).
pub fn functions(text: &str) -> Result<Vec<CaseFn>, String> {
    let file = syn::parse_file(text).map_err(|e| {
        let at = e.span().start();
        format!("does not parse (line {}): {e}", at.line)
    })?;
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Fn(f) = item else {
            continue;
        };
        let sig = &f.sig;
        let name = sig.ident.to_string();
        let is_async = sig.asyncness.is_some();
        let mut info = FnInfo {
            name: name.clone(),
            line: f.span().start().line as u32,
            end_line: f.block.brace_token.span.close().end().line as u32,
            kind: if is_async { "async fn" } else { "fn" }.into(),
            status: "run".into(),
            reason: None,
        };
        let mut args = Vec::new();
        let mut skip = |status: &str, reason: String| {
            if info.status == "run" {
                info.status = status.into();
                info.reason = Some(reason);
            }
        };
        if !matches!(f.vis, syn::Visibility::Public(_)) {
            skip("skip-private", "private: not `pub`, a helper".into());
        }
        if name == "main" {
            skip("skip-cannot-call", "`main`".into());
        }
        if !sig.generics.params.is_empty() {
            skip("skip-cannot-call", "generic".into());
        }
        let mut pools = 0;
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => skip("skip-cannot-call", "a method".into()),
                syn::FnArg::Typed(t) => {
                    if !matches!(&*t.pat, syn::Pat::Ident(_)) {
                        skip(
                            "skip-cannot-call",
                            "a parameter that is a pattern, not a name".into(),
                        );
                    }
                    match argument(&t.ty) {
                        Ok(Arg::Pool(a)) => {
                            pools += 1;
                            args.push(a);
                        }
                        Ok(Arg::Value(a)) => args.push(a),
                        Err(why) => skip("skip-cannot-call", why),
                    }
                }
            }
        }
        if pools == 0 {
            skip("skip-cannot-call", "takes no pool".into());
        } else if pools > 1 {
            skip(
                "skip-cannot-call",
                "takes two pools (one pool would stand for both)".into(),
            );
        }
        let returns_result = match &sig.output {
            syn::ReturnType::Default => false,
            syn::ReturnType::Type(_, ty) => {
                if borrows(ty) {
                    skip("skip-cannot-call", "returns a borrow".into());
                }
                if let syn::Type::ImplTrait(_) = &**ty {
                    skip("skip-cannot-call", "returns `impl Trait`".into());
                }
                last_segment(ty).is_some_and(|(n, _)| n == "Result")
            }
        };
        out.push(CaseFn {
            info,
            is_async,
            args,
            returns_result,
        });
    }
    Ok(out)
}

/// A Rust case file to compile in.
pub struct Included {
    pub file_id: String,
    pub abs: PathBuf,
    pub runtime: &'static RustRuntime,
    pub functions: Vec<CaseFn>,
}

/// The file that harness/rust/src/main.rs includes.
pub fn generate(cases: &[Included]) -> Result<String, String> {
    let mut out = String::from(
        "// Generated by connlint-harness (harness/src/rust_cases.rs); do not edit.\n\n",
    );
    let mut table = String::from("static CASES: &[support::Case] = &[\n");
    for case in cases {
        let module = format!("case_{}", case.file_id);
        let path = case
            .abs
            .to_str()
            .ok_or_else(|| format!("{}: not UTF-8", case.abs.display()))?;
        writeln!(
            out,
            "#[allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]\n#[path = {path:?}]\nmod {module};\n"
        )
        .map_err(|e| e.to_string())?;
        let infos: Vec<&FnInfo> = case.functions.iter().map(|f| &f.info).collect();
        let json = serde_json::to_string(&infos).map_err(|e| e.to_string())?;
        let mut calls = String::new();
        for (k, f) in case
            .functions
            .iter()
            .filter(|f| f.info.status == "run")
            .enumerate()
        {
            let wrapper = format!("call_{}_{k}", case.file_id);
            let wrap = if f.returns_result {
                "from_result"
            } else {
                "from_value"
            };
            let invoke = format!("{module}::{}({})", f.info.name, f.args.join(", "));
            let body = if f.is_async {
                format!("Box::pin(async move {{ support::Outcome::{wrap}({invoke}.await) }})")
            } else {
                format!("support::blocking(move || support::Outcome::{wrap}({invoke}))")
            };
            writeln!(
                out,
                "#[allow(clippy::needless_borrow, clippy::redundant_clone, clippy::unit_arg)]\nfn {wrapper}(pool: {}) -> support::BoxCall {{\n    {body}\n}}\n",
                case.runtime.pool_type
            )
            .map_err(|e| e.to_string())?;
            writeln!(
                calls,
                "        support::Call {{ name: {:?}, is_async: {}, call: {wrapper} }},",
                f.info.name, f.is_async
            )
            .map_err(|e| e.to_string())?;
        }
        writeln!(
            table,
            "    support::Case {{\n        path: {path:?},\n        functions: {json:?},\n        calls: support::Calls::{}(&[\n{calls}        ]),\n    }},",
            case.runtime.variant
        )
        .map_err(|e| e.to_string())?;
    }
    table.push_str("];\n");
    out.push_str(&table);
    Ok(out)
}

/// Writes the case list (only when it changed, so that cargo's fingerprint holds) and builds
/// the case crate. Ok(binary); Err((message, files the compiler complained about)).
pub fn build(
    root: &Path,
    out: &Path,
    generated: &str,
    log: &Path,
) -> Result<PathBuf, (String, Vec<PathBuf>)> {
    let plain = |e: String| (e, Vec::new());
    let dir = out.join("rust");
    std::fs::create_dir_all(&dir).map_err(|e| plain(format!("{}: {e}", dir.display())))?;
    let cases = dir.join("cases.rs");
    if std::fs::read_to_string(&cases).ok().as_deref() != Some(generated) {
        std::fs::write(&cases, generated)
            .map_err(|e| plain(format!("{}: {e}", cases.display())))?;
    }
    let target = dir.join("target");
    let manifest = root.join("harness").join("rust").join("Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--locked",
            "--message-format",
            "short",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .env("CONNLINT_HARNESS_CASES", &cases)
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .current_dir(root)
        .output()
        .map_err(|e| plain(format!("{cargo} build: {e}")))?;
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let _ = std::fs::write(log, &stderr);
    if !output.status.success() {
        let mut files = Vec::new();
        let mut first = Vec::new();
        for line in stderr.lines().filter(|l| l.contains("error")) {
            // `--message-format short`: `path:line:col: error[E0000]: message`
            if let Some((path, _)) = line.split_once(':') {
                let p = PathBuf::from(path);
                if p.is_absolute() && !files.contains(&p) {
                    files.push(p);
                }
            }
            if first.len() < 5 {
                first.push(line.to_string());
            }
        }
        return Err((
            format!(
                "the Rust case crate did not build ({}; log: {}): {}",
                output.status,
                log.display(),
                first.join(" | ")
            ),
            files,
        ));
    }
    Ok(target.join("debug").join("connlint-harness-cases"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"
use sqlx::PgPool;

async fn helper(pool: &PgPool) -> Result<i64, sqlx::Error> {
    todo!()
}

pub async fn by_ref(pool: &PgPool, id: i64, name: &str) -> Result<(), sqlx::Error> {
    Ok(())
}

pub fn sync_owned(pool: r2d2::Pool<M>, flag: bool) {
}

pub async fn two(reads: &PgPool, writes: &PgPool) {}

pub async fn state(State(s): State<AppState>) {}

pub fn borrowed(pool: &bb8::Pool<M>) -> bb8::PooledConnection<'_, M> { todo!() }

pub fn leaked(pool: &Pool<M>) -> &'static mut Conn { todo!() }

impl Repo {
    pub async fn method(&self) {}
}
"#;

    fn by_name<'a>(fns: &'a [CaseFn], name: &str) -> &'a CaseFn {
        fns.iter()
            .find(|f| f.info.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn functions_and_their_arguments() {
        let fns = functions(CASE).expect("parses");
        let names: Vec<&str> = fns.iter().map(|f| f.info.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "helper",
                "by_ref",
                "sync_owned",
                "two",
                "state",
                "borrowed",
                "leaked"
            ]
        );
        let h = by_name(&fns, "helper");
        assert_eq!(h.info.status, "skip-private");
        let r = by_name(&fns, "by_ref");
        assert_eq!(r.info.status, "run");
        assert!(r.is_async && r.returns_result);
        assert_eq!(r.args, ["&pool", "1", "\"x\""]);
        assert_eq!((r.info.line, r.info.end_line), (8, 10));
        let s = by_name(&fns, "sync_owned");
        assert_eq!(s.info.status, "run");
        assert!(!s.is_async && !s.returns_result);
        assert_eq!(s.args, ["pool.clone()", "false"]);
        for skipped in ["two", "state", "borrowed"] {
            assert_eq!(
                by_name(&fns, skipped).info.status,
                "skip-cannot-call",
                "{skipped}"
            );
        }
        assert_eq!(by_name(&fns, "leaked").info.status, "run");
    }

    #[test]
    fn generated_wrappers_call_each_runnable_function() {
        let fns = functions(CASE).expect("parses");
        let runtime = rust_runtime("sqlx-postgres").expect("known");
        let text = generate(&[Included {
            file_id: "p03".into(),
            abs: PathBuf::from("/c/x.rs"),
            runtime,
            functions: fns,
        }])
        .expect("generates");
        assert!(text.contains("#[path = \"/c/x.rs\"]\nmod case_p03;"));
        assert!(
            text.contains("support::Outcome::from_result(case_p03::by_ref(&pool, 1, \"x\").await)")
        );
        assert!(text.contains(
            "support::blocking(move || support::Outcome::from_value(case_p03::sync_owned(pool.clone(), false)))"
        ));
        assert!(!text.contains("case_p03::helper("));
        assert!(!text.contains("case_p03::two("));
        assert!(text.contains("calls: support::Calls::SqlxPostgres(&["));
    }

    #[test]
    fn unparsable_files_are_reported() {
        let err = functions("pub fn broken( {").expect_err("does not parse");
        assert!(err.contains("does not parse"), "{err}");
    }
}
