//! Starting a server's child process so that it, and everything it starts, dies with mcpgw.
//!
//! - Unix: the child leads its own process group (a terminal's Ctrl-C reaches mcpgw, which
//!   then stops its servers in order), and stopping signals the whole group, so the `node`
//!   that `npx` starts goes too.
//! - Windows: the child is created in a Job Object with kill-on-close. The job's handle is
//!   mcpgw's, so however mcpgw ends (Ctrl-C, a closed console, `taskkill /F`, a crash) the
//!   OS kills every process in the job, grandchildren included. Children get no console
//!   window of their own (`CREATE_NO_WINDOW`): a client that starts mcpgw hidden must not
//!   flash a window for each `npx`.
//! - Windows looks programs up by `PATHEXT`, which std's `Command` does not: it only tries
//!   `.exe`, so `npx` (really `npx.cmd`) fails with "program not found", the classic `spawn
//!   npx ENOENT`. [`resolve`] finds it first, in the `PATH` the child will get; std then runs
//!   `.cmd` and `.bat` files through `cmd.exe` with its safe argument quoting.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use process_wrap::tokio::{CommandWrap, KillOnDrop};

pub use process_wrap::tokio::ChildWrapper;

/// What to start: the program as configured (a name to look up, or a path), its arguments,
/// the environment it gets on top of mcpgw's, and its working folder.
#[derive(Debug, Clone, Copy)]
pub struct Program<'a> {
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a [(String, String)],
    pub cwd: Option<&'a Path>,
}

/// A command ready to spawn with piped stdio, wrapped so that its process tree dies with
/// mcpgw. Fails only when the program cannot be found (the message says where it looked).
fn command(program: Program<'_>) -> Result<CommandWrap, String> {
    let path = resolve(program)?;
    let mut command = CommandWrap::with_new(&path, |cmd| {
        cmd.args(program.args)
            .envs(program.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cwd) = program.cwd {
            cmd.current_dir(cwd);
        }
    });
    #[cfg(unix)]
    command.wrap(process_wrap::tokio::ProcessGroup::leader());
    #[cfg(windows)]
    {
        use windows::Win32::System::Threading::CREATE_NO_WINDOW;
        command.wrap(process_wrap::tokio::CreationFlags(CREATE_NO_WINDOW));
        command.wrap(process_wrap::tokio::JobObject);
    }
    command.wrap(KillOnDrop);
    Ok(command)
}

/// Starts `program` (see [`command`]); the message names the program when it cannot.
///
/// On Windows a start that fails for a reason other than the program itself (not missing,
/// not forbidden, not a bad argument) is tried once more: creating the child suspended,
/// putting it in the job and resuming its thread can fail while other processes start
/// (seen under Wine as `ERROR_INTERNAL_ERROR`, 1359).
pub fn spawn(program: Program<'_>) -> Result<Box<dyn ChildWrapper>, String> {
    let mut tries = if cfg!(windows) { 2 } else { 1 };
    loop {
        tries -= 1;
        match command(program)?.spawn() {
            Ok(child) => return Ok(child),
            Err(e) if tries > 0 && transient(&e) => {
                tracing::debug!("starting `{}` failed ({e}); trying again", program.command);
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(format!("cannot start `{}`: {e}", program.command)),
        }
    }
}

fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    !matches!(
        e.kind(),
        NotFound | PermissionDenied | InvalidInput | InvalidFilename | Unsupported
    )
}

/// The program to execute. On Unix the name is left to `execvp`, as a shell would. On
/// Windows a bare name is looked up in the child's `PATH` with every `PATHEXT` extension
/// (`npx` → `C:\Program Files\nodejs\npx.cmd`).
fn resolve(program: Program<'_>) -> Result<PathBuf, String> {
    if cfg!(unix) {
        return Ok(PathBuf::from(program.command));
    }
    let search = child_path(program.env);
    let cwd = program
        .cwd
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    which::which_in(program.command, search.as_ref(), cwd).map_err(|_| {
        let exts = std::env::var("PATHEXT").unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".into());
        let place = if program.command.contains(['/', '\\']) {
            "was not found"
        } else {
            "was not found on PATH"
        };
        format!(
            "`{}` {place} (tried the extensions {exts})",
            program.command
        )
    })
}

/// The `PATH` the child will see: its own from the config when set (the name compared
/// without case on Windows), else mcpgw's.
fn child_path(env: &[(String, String)]) -> Option<OsString> {
    env.iter()
        .rev()
        .find(|(k, _)| {
            if cfg!(windows) {
                k.eq_ignore_ascii_case("PATH")
            } else {
                k == "PATH"
            }
        })
        .map(|(_, v)| OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
}

/// Asks the process tree to end (SIGTERM to the group on Unix). Windows has no such request
/// for console programs without a console; there the caller's next step, the kill, ends the
/// job.
pub fn terminate(child: &mut dyn ChildWrapper) {
    #[cfg(unix)]
    let _ = child.signal(libc::SIGTERM);
    #[cfg(not(unix))]
    let _ = child;
}

/// How a child ended, for messages: "exited with status 1", "killed by signal 9".
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        // NTSTATUS codes read better in hex: 0xC0000005 is an access violation.
        #[cfg(windows)]
        Some(code) if code < 0 => format!("exited with status {:#010X}", code as u32),
        Some(code) => format!("exited with status {code}"),
        None => "exited".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn unix_names_are_left_to_execvp() {
        let program = Program {
            command: "npx",
            args: &[],
            env: &[],
            cwd: None,
        };
        assert_eq!(resolve(program).unwrap(), PathBuf::from("npx"));
    }

    #[test]
    fn the_childs_own_path_wins() {
        let env = [("PATH".to_owned(), "/only/here".to_owned())];
        assert_eq!(child_path(&env), Some(OsString::from("/only/here")));
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_child_starts_with_piped_stdio_and_its_env() {
        let env = [("MCPGW_PROBE".to_owned(), "42".to_owned())];
        let args = ["-c".to_owned(), "echo $MCPGW_PROBE".to_owned()];
        let mut child = spawn(Program {
            command: "sh",
            args: &args,
            env: &env,
            cwd: None,
        })
        .unwrap();
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut child.stdout().take().unwrap(), &mut out)
            .await
            .unwrap();
        assert_eq!(out, "42\n");
        assert!(child.wait().await.unwrap().success());
    }
}
