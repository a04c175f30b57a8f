//! Reading the config again while serving: on SIGHUP, when the file changes (looked at every
//! [`POLL`]: editors replace files rather than write them, which a path's time stamp sees on
//! every platform; `[gateway] reload_on_change = false` turns this off), and on the HTTP
//! face's `POST /admin/reload`.
//!
//! A config with an error is refused: the error is logged (and returned to `/admin/reload`),
//! and the running one kept. A good one goes to the hub (servers added, removed, restarted),
//! to the audit log's settings, and to whatever else registered with [`Reloader::on_reload`]
//! (the HTTP face's keys from the environment).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::hub::{Control, Reloaded};

/// How often the config file is looked at.
pub const POLL: Duration = Duration::from_secs(2);

type Hook = Box<dyn Fn(&Config) -> Result<(), String> + Send + Sync>;

pub struct Reloader {
    path: Option<PathBuf>,
    /// Whether a change of the file is reloaded (`[gateway] reload_on_change`).
    on_change: std::sync::atomic::AtomicBool,
    control: mpsc::UnboundedSender<Control>,
    /// The file as last read: (modified, length).
    seen: Mutex<Option<(SystemTime, u64)>>,
    hooks: Mutex<Vec<Hook>>,
    /// One reload at a time.
    busy: tokio::sync::Mutex<()>,
}

fn stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl Reloader {
    /// Reloads `config`'s file (or, with none, the default one once it exists) into the hub
    /// behind `control`.
    pub fn new(config: &Config, control: mpsc::UnboundedSender<Control>) -> Arc<Reloader> {
        let path = config.path.clone().or_else(Config::default_path);
        let seen = path.as_deref().and_then(stamp);
        Arc::new(Reloader {
            path,
            on_change: config.gateway.reload_on_change.into(),
            control,
            seen: Mutex::new(seen),
            hooks: Mutex::default(),
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// `hook` sees every good config before the hub does; its error refuses the config.
    pub fn on_reload(&self, hook: impl Fn(&Config) -> Result<(), String> + Send + Sync + 'static) {
        self.hooks.lock().expect("hooks").push(Box::new(hook));
    }

    /// Reads the config again (`why` says what asked, for the log; `who`, the key, when an
    /// admin did).
    pub async fn reload(&self, why: &str, who: Option<&str>) -> Result<Reloaded, String> {
        let done = self.reload_now(why).await;
        crate::audit::record(crate::audit::Event::Admin {
            key: who,
            action: "reload",
            outcome: if done.is_ok() { "ok" } else { "refused" },
        });
        done
    }

    async fn reload_now(&self, why: &str) -> Result<Reloaded, String> {
        let _one = self.busy.lock().await;
        let path = self
            .path
            .clone()
            .ok_or("there is no config file to read (no config folder on this system)")?;
        let stamp = stamp(&path);
        let loaded = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || Config::load(Some(&path)))
                .await
                .map_err(|e| e.to_string())?
        };
        // Seen, good or bad: a bad file is not read again until it changes.
        *self.seen.lock().expect("seen") = stamp;
        let refuse = |e: String| {
            tracing::error!("{why}: the config is not taken, the running one stays: {e}");
            e
        };
        let config = loaded.map_err(|e| refuse(e.to_string()))?;
        for hook in self.hooks.lock().expect("hooks").iter() {
            hook(&config).map_err(refuse)?;
        }
        crate::audit::init(&config.audit);
        self.on_change.store(
            config.gateway.reload_on_change,
            std::sync::atomic::Ordering::Relaxed,
        );
        let (reply, done) = oneshot::channel();
        self.control
            .send(Control::Reload(Arc::new(config), reply))
            .map_err(|_| "mcpgw is shutting down".to_owned())?;
        let done = done
            .await
            .map_err(|_| "mcpgw is shutting down".to_owned())?;
        tracing::info!("{why}: config reloaded");
        Ok(done)
    }

    /// Reloads on SIGHUP and when the file changes, until dropped.
    pub async fn watch(self: Arc<Self>) {
        let mut signals = mcpgw_platform::signal::Reload::new();
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let why = tokio::select! {
                () = signals.next() => "SIGHUP",
                _ = tick.tick() => {
                    if !self.on_change.load(std::sync::atomic::Ordering::Relaxed) {
                        continue;
                    }
                    let now = self.path.as_deref().and_then(stamp);
                    if now.is_none() || now == *self.seen.lock().expect("seen") {
                        continue;
                    }
                    "the config file changed"
                }
            };
            let _ = self.reload(why, None).await;
        }
    }
}
