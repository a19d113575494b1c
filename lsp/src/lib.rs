//! connlint's language server: the findings of `connlint check`, as you type, in any editor that
//! speaks the Language Server Protocol.
//!
//! It owns the protocol: the main loop ([`server`]), the document store and the workspace index,
//! the conversions between the analyzer's byte spans and LSP's UTF-16 positions
//! ([`convert`], the only module that builds LSP positions) and the code actions ([`fixes`]). It
//! analyses with the same `connlint_rules::check_project_with` as the command line, over the
//! in-memory texts, so the editor and CI agree.
//!
//! It knows nothing of the command line: reading the configuration and walking a workspace
//! folder (`.gitignore`, `exclude`) is the binary's job, handed in through [`Host`]. Only this
//! crate knows LSP types.

mod convert;
mod fixes;
mod server;
mod transport;
mod uri;

use std::path::{Path, PathBuf};

pub use connlint_rules::analyzer::Declarations;
pub use connlint_rules::{Limits, Selection};
pub use lsp_server::Connection;
pub use server::serve;
#[doc(hidden)]
pub use server::{serve_with, ProjectCheck};

/// What the binary knows and this crate must not: the configuration, the walk, and how a
/// source file is read.
pub trait Host: Send + Sync {
    /// The configuration in force for `root` (searched from `root` upwards, as `connlint check`
    /// run in `root` would) and, when `walk` is true, the source files under it that
    /// `connlint check` would analyse there.
    fn load(&self, root: &Path, walk: bool) -> Workspace;

    /// A source file's text as `connlint check` reads it, or why it cannot be read.
    fn read(&self, path: &Path) -> Result<String, String>;
}

/// A workspace folder's configuration and files, from [`Host::load`].
pub struct Workspace {
    pub selection: Selection,
    pub declared: Declarations,
    /// `max-pool-size` and `[budget]`, for CL004 and CL011.
    pub limits: Limits,
    /// Absolute paths of the source files to analyse, each with its text or why it has none.
    pub files: Vec<(PathBuf, Result<String, String>)>,
    /// Why the configuration could not be used (the defaults are in force), for the user.
    pub config_error: Option<String>,
    /// `per-file-ignores`: whether findings of a rule code are dropped in a file (absolute path).
    pub ignores: Ignores,
    /// `exclude`: whether a file (absolute path) is left out of the analysis.
    pub excluded: Excluded,
}

/// Whether findings of a rule code are dropped in a file: `(path, code) -> dropped`.
pub type Ignores = Box<dyn Fn(&Path, &str) -> bool + Send + Sync>;
/// Whether a file is left out of the analysis.
pub type Excluded = Box<dyn Fn(&Path) -> bool + Send + Sync>;

impl Workspace {
    /// The defaults: every default rule, nothing declared, ignored or excluded, no files.
    pub fn empty() -> Self {
        Workspace {
            selection: Selection::default(),
            declared: Declarations::default(),
            limits: Limits::default(),
            files: Vec::new(),
            config_error: None,
            ignores: Box::new(|_, _| false),
            excluded: Box::new(|_| false),
        }
    }
}

/// Serves the protocol on standard input and output until the client says `exit` or goes away.
/// Returns the process exit code the specification asks for: 0 after a `shutdown` request, 1
/// otherwise.
pub fn run_stdio(host: &dyn Host) -> i32 {
    let (connection, threads) = transport::stdio();
    let code = serve(connection, host);
    threads.join();
    code
}
