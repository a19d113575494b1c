//! The numbers the configuration rules compare against, from the configuration file.

use connlint_analyzer::PoolConstruction;

/// Limits for CL004 and CL011 (`max-pool-size`, `[budget]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// CL004: the most connections one pool may open (`max-pool-size`, default 100).
    pub max_pool_size: u64,
    /// CL011: the database server's connection slots (`[budget] max-connections`, default
    /// 100, PostgreSQL's default `max_connections`).
    pub max_connections: u64,
    /// CL011: how many processes run this code at once (`[budget] processes`, default 1).
    pub processes: u64,
    /// CL011: how many times a pool is built, keyed `path:name` or `name`, where `name` is the
    /// function that builds it or what it is stored in (`[budget.multiplicity]`).
    pub multiplicity: Vec<(String, u64)>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pool_size: 100,
            max_connections: 100,
            processes: 1,
            multiplicity: Vec::new(),
        }
    }
}

impl Limits {
    /// The declared number of copies of a pool built in the file at `path`, if any.
    pub fn multiplicity_of(&self, path: &str, pool: &PoolConstruction) -> Option<u64> {
        let path = path.replace('\\', "/");
        self.multiplicity.iter().find_map(|(key, n)| {
            let (file, name) = match key.rsplit_once(':') {
                Some((file, name)) => (file.trim_start_matches("./"), name),
                None => ("", key.as_str()),
            };
            let file_matches =
                file.is_empty() || path == file || path.ends_with(&format!("/{file}"));
            let name_matches = pool.function == name
                || pool.function.rsplit('.').next() == Some(name)
                || pool.binding.as_deref() == Some(name);
            (file_matches && name_matches).then_some(*n)
        })
    }
}
