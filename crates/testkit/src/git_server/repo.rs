//! Bare repositories served by [`super::GitServer`], changed through a scratch clone.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::run;

/// A bare repository on the server plus a scratch working copy used to change it.
///
/// The bare repository is the source of truth: every change starts from its branch tip and is
/// pushed back immediately, so pushes made by others (e.g. over HTTP) are respected.
pub struct Repo {
    name: String,
    bare: PathBuf,
    work: PathBuf,
}

impl Repo {
    pub(super) fn create(root: &Path, name: &str) -> Self {
        assert!(
            !name.is_empty() && !name.split('/').any(|part| part.is_empty() || part == ".."),
            "repository name {name:?} is a relative path without empty or `..` parts"
        );
        let bare = root.join("repos").join(format!("{name}.git"));
        let work = root.join("work").join(name);
        git_in(root, &["init", "-q", "--bare", "-b", "main"], Some(&bare));
        git_in(&bare, &["config", "http.receivepack", "true"], None);
        git_in(root, &["init", "-q", "-b", "main"], Some(&work));
        let repo = Self {
            name: name.to_owned(),
            bare,
            work,
        };
        repo.git(&["remote", "add", "origin", &repo.bare.display().to_string()]);
        for (key, value) in [
            ("user.name", "Flux Test"),
            ("user.email", "flux-test@ferroflux.invalid"),
            ("commit.gpgsign", "false"),
            ("tag.gpgsign", "false"),
        ] {
            repo.git(&["config", key, value]);
        }
        repo
    }

    /// The name given to [`super::GitServer::create_repo`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bare repository's absolute path.
    pub fn path(&self) -> &Path {
        &self.bare
    }

    /// Writes `files` (path relative to the repository root, content) on `main`, commits and
    /// pushes; returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        self.commit_on("main", files, message)
    }

    /// Like [`Self::commit`] on `branch`. A new branch starts from `main` (or empty when the
    /// repository has no `main` yet).
    pub fn commit_on(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        self.check_out(branch);
        for (path, content) in files {
            let file = self.work.join(path);
            if let Some(parent) = file.parent() {
                fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
            }
            fs::write(&file, content).unwrap_or_else(|e| panic!("writing {path}: {e}"));
        }
        self.commit_and_push(branch, message)
    }

    /// Removes `path` (a file or directory) on `main`, commits and pushes; returns the commit id.
    pub fn delete_file(&self, path: &str, message: &str) -> String {
        self.delete_file_on("main", path, message)
    }

    /// Like [`Self::delete_file`] on `branch`.
    pub fn delete_file_on(&self, branch: &str, path: &str, message: &str) -> String {
        self.check_out(branch);
        self.git(&["rm", "-r", "-q", "--", path]);
        self.commit_and_push(branch, message)
    }

    /// Points the lightweight tag `name` at `sha` (moving it if it exists) and pushes it.
    pub fn tag(&self, name: &str, sha: &str) {
        self.fetch();
        self.git(&["tag", "-f", name, sha]);
        self.push(&format!("refs/tags/{name}"));
    }

    /// Creates (or moves) the annotated tag `name` on `sha` and pushes it; returns the id of
    /// the tag object (`git rev-parse <name>^{commit}` is `sha`).
    pub fn annotated_tag(&self, name: &str, sha: &str, message: &str) -> String {
        self.fetch();
        self.git(&["tag", "-f", "-a", name, sha, "-m", message]);
        self.push(&format!("refs/tags/{name}"));
        self.git(&["rev-parse", &format!("refs/tags/{name}")])
    }

    /// Force-pushes `refspec` from the scratch clone: e.g. `<sha>:refs/heads/main` rewrites
    /// history, `:refs/heads/feature` deletes a branch, `refs/tags/v1` pushes a tag.
    pub fn push(&self, refspec: &str) {
        self.git(&["push", "-q", "--force", "origin", refspec]);
    }

    /// The commit `branch` points at on the server, if the branch exists.
    pub fn head(&self, branch: &str) -> Option<String> {
        let reference = format!("refs/heads/{branch}^{{commit}}");
        run(git_command(&self.bare).args(["rev-parse", "--verify", "-q", &reference]))
            .ok()
            .map(|out| out.trim().to_owned())
    }

    /// Runs `git` in the scratch clone and returns its trimmed stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.work, args, None)
    }

    fn fetch(&self) {
        self.git(&[
            "fetch",
            "-q",
            "--prune",
            "--force",
            "origin",
            "+refs/heads/*:refs/remotes/origin/*",
        ]);
    }

    /// Resets the scratch clone to the server's `branch` (or `main`, or nothing), clean.
    fn check_out(&self, branch: &str) {
        self.fetch();
        let exists = |reference: &str| {
            run(git_command(&self.work).args(["rev-parse", "--verify", "-q", reference])).is_ok()
        };
        let remote_branch = format!("refs/remotes/origin/{branch}");
        let base = if exists(&remote_branch) {
            Some(remote_branch)
        } else if exists("refs/remotes/origin/main") {
            Some("refs/remotes/origin/main".to_owned())
        } else {
            None
        };
        if let Some(base) = base {
            self.git(&["checkout", "-q", "-f", "-B", branch, &base]);
        } else {
            // An unborn branch with an empty index and work tree.
            self.git(&["symbolic-ref", "HEAD", &format!("refs/heads/{branch}")]);
            self.git(&["rm", "-r", "-q", "-f", "--cached", "--ignore-unmatch", "."]);
        }
        self.git(&["clean", "-q", "-f", "-d", "-x"]);
    }

    fn commit_and_push(&self, branch: &str, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        let sha = self.git(&["rev-parse", "HEAD"]);
        self.git(&["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")]);
        sha
    }
}

/// `git` isolated from the user's and the system's configuration.
fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0");
    command
}

/// Runs `git args [target]` in `dir`; trimmed stdout, or a panic with git's stderr.
fn git_in(dir: &Path, args: &[&str], target: Option<&Path>) -> String {
    let mut command = git_command(dir);
    command.args(args);
    if let Some(target) = target {
        command.arg(target);
    }
    run(&mut command)
        .unwrap_or_else(|e| panic!("{e}"))
        .trim()
        .to_owned()
}
