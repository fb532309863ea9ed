//! The debuginfod client: `GET <url>/buildid/<id>/debuginfo` from each server of
//! `DEBUGINFOD_URLS`, with a local cache (`<cache>/<id>/debuginfo`), bounded response
//! sizes and negative caching of misses, over a blocking HTTP client (`ureq`).

use crashsift_model::BuildId;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a miss is remembered (debuginfod's own `cache_miss_s` default).
const MISS_TTL: Duration = Duration::from_secs(600);

/// A debuginfod client over a list of server URLs.
#[derive(Debug, Clone)]
pub struct Debuginfod {
    pub urls: Vec<String>,
    pub cache_dir: PathBuf,
    /// Largest file accepted; bigger responses are refused.
    pub max_bytes: u64,
    pub timeout: Duration,
}

impl Debuginfod {
    /// Servers from `DEBUGINFOD_URLS` (space separated) and the cache from
    /// `DEBUGINFOD_CACHE_PATH`, else `~/.cache/debuginfod_client`.
    pub fn from_env() -> Option<Debuginfod> {
        let urls: Vec<String> = std::env::var("DEBUGINFOD_URLS")
            .ok()?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if urls.is_empty() {
            return None;
        }
        let cache_dir = std::env::var_os("DEBUGINFOD_CACHE_PATH")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/debuginfod_client"))
            })
            .unwrap_or_else(|| std::env::temp_dir().join("debuginfod_client"));
        Some(Debuginfod {
            urls,
            cache_dir,
            max_bytes: 4 << 30,
            timeout: Duration::from_secs(90),
        })
    }

    /// The local path of the debug file for `id`, downloading it when not cached.
    /// `Ok(None)` when no server has it.
    pub fn fetch_debuginfo(&self, id: &BuildId) -> Result<Option<PathBuf>, String> {
        let dir = self.cache_dir.join(id.as_str());
        let path = dir.join("debuginfo");
        if path.is_file() {
            return Ok(Some(path));
        }
        let miss = dir.join(".miss");
        if let Ok(m) = std::fs::metadata(&miss) {
            let fresh = m
                .modified()
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .is_some_and(|age| age < MISS_TTL);
            if fresh {
                return Ok(None);
            }
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let agent = ureq::AgentBuilder::new().timeout(self.timeout).build();
        let mut last_err = None;
        for base in &self.urls {
            let url = format!("{}/buildid/{}/debuginfo", base.trim_end_matches('/'), id);
            match agent.get(&url).call() {
                Ok(resp) => {
                    if let Some(len) = resp
                        .header("Content-Length")
                        .and_then(|l| l.parse::<u64>().ok())
                        && len > self.max_bytes
                    {
                        last_err = Some(format!(
                            "{url}: {len} bytes exceeds the limit of {}",
                            self.max_bytes
                        ));
                        continue;
                    }
                    let tmp = dir.join(format!(".debuginfo.{}.tmp", std::process::id()));
                    let res = (|| -> Result<u64, String> {
                        let mut f = std::fs::File::create(&tmp)
                            .map_err(|e| format!("{}: {e}", tmp.display()))?;
                        let mut body = resp.into_reader().take(self.max_bytes + 1);
                        let n =
                            std::io::copy(&mut body, &mut f).map_err(|e| format!("{url}: {e}"))?;
                        if n > self.max_bytes {
                            return Err(format!(
                                "{url}: response exceeds the limit of {} bytes",
                                self.max_bytes
                            ));
                        }
                        Ok(n)
                    })();
                    match res {
                        Ok(_) => {
                            std::fs::rename(&tmp, &path)
                                .map_err(|e| format!("{}: {e}", path.display()))?;
                            return Ok(Some(path));
                        }
                        Err(e) => {
                            let _ = std::fs::remove_file(&tmp);
                            last_err = Some(e);
                        }
                    }
                }
                Err(ureq::Error::Status(404, _)) => {}
                Err(e) => last_err = Some(format!("{url}: {e}")),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => {
                let _ = std::fs::write(&miss, b"");
                Ok(None)
            }
        }
    }
}
