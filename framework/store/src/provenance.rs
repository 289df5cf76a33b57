//! Provenance collection (effects: runs `git` and `nvidia-smi`, reads /proc) with the parsing
//! kept in small pure functions.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::types::Provenance;

/// Maximum stored size of `git diff HEAD` in bytes (256 KiB).
pub const GIT_DIFF_CAP: usize = 256 * 1024;

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Streams a file through SHA-256; returns (hex digest, size in bytes).
pub fn sha256_file(path: &Path) -> std::io::Result<(String, i64)> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total: i64 = 0;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as i64;
    }
    Ok((
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        total,
    ))
}

/// Caps a diff at `cap` bytes on a character boundary, appending a note with the full size.
pub fn cap_diff(diff: &str, cap: usize) -> String {
    if diff.len() <= cap {
        return diff.to_string();
    }
    let mut end = cap;
    while !diff.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[seds-lab: diff truncated to {end} of {} bytes]\n",
        &diff[..end],
        diff.len()
    )
}

/// CPU model from /proc/cpuinfo text (`model name`, or `Hardware`/`cpu model` on other arches).
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        let k = k.trim();
        (k == "model name" || k == "Hardware" || k == "cpu model")
            .then(|| v.trim().to_string())
            .filter(|s| !s.is_empty())
    })
}

/// Total memory in bytes from /proc/meminfo text (`MemTotal: N kB`).
pub fn parse_mem_total(meminfo: &str) -> Option<i64> {
    meminfo.lines().find_map(|l| {
        let rest = l.strip_prefix("MemTotal:")?;
        let mut it = rest.split_whitespace();
        let n: i64 = it.next()?.parse().ok()?;
        match it.next() {
            Some("kB") | None => Some(n * 1024),
            _ => None,
        }
    })
}

/// GPU description from `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` output:
/// lines joined with "; " (None when empty).
pub fn parse_nvidia_smi(out: &str) -> Option<String> {
    let gpus: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (!gpus.is_empty()).then(|| gpus.join("; "))
}

/// Slurm job id from the environment values (`JOB_ARRAYTASK` for array tasks).
pub fn slurm_job_from(
    job: Option<&str>,
    array_job: Option<&str>,
    task: Option<&str>,
) -> Option<String> {
    match (array_job, task, job) {
        (Some(a), Some(t), _) => Some(format!("{a}_{t}")),
        (_, _, Some(j)) => Some(j.to_string()),
        _ => None,
    }
}

fn run_cmd(dir: Option<&Path>, prog: &str, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new(prog);
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Collects provenance for a run started from the source tree at `repo_dir`. Never fails:
/// anything that cannot be determined is None. `version` is this crate's (= seds-lab's) version.
pub fn collect_provenance(repo_dir: &Path) -> Provenance {
    let git_commit = run_cmd(Some(repo_dir), "git", &["rev-parse", "HEAD"])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let git_dirty = git_commit.as_ref().and_then(|_| {
        run_cmd(
            Some(repo_dir),
            "git",
            &["status", "--porcelain", "--untracked-files=no"],
        )
        .map(|s| !s.trim().is_empty())
    });
    let git_diff = match git_dirty {
        Some(true) => {
            run_cmd(Some(repo_dir), "git", &["diff", "HEAD"]).map(|d| cap_diff(&d, GIT_DIFF_CAP))
        }
        _ => None,
    };
    let cargo_lock_sha256 = std::fs::read(repo_dir.join("Cargo.lock"))
        .ok()
        .map(|b| sha256_hex(&b));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty());
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| parse_cpu_model(&s));
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| parse_mem_total(&s));
    let cores = std::thread::available_parallelism()
        .ok()
        .map(|n| n.get() as i64);
    let gpu = run_cmd(
        None,
        "nvidia-smi",
        &["--query-gpu=name,memory.total", "--format=csv,noheader"],
    )
    .and_then(|s| parse_nvidia_smi(&s));
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    Provenance {
        git_commit,
        git_dirty,
        git_diff,
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
        cargo_lock_sha256,
        host,
        cpu_model,
        cores,
        memory_bytes,
        gpu,
        pid: Some(std::process::id() as i64),
        slurm_job: slurm_job_from(
            env("SLURM_JOB_ID").as_deref(),
            env("SLURM_ARRAY_JOB_ID").as_deref(),
            env("SLURM_ARRAY_TASK_ID").as_deref(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), (sha256_hex(b"abc"), 3));
        assert!(sha256_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn diff_is_capped_on_a_char_boundary() {
        assert_eq!(cap_diff("short", 10), "short");
        let s = "aé".repeat(10); // 30 bytes
        let c = cap_diff(&s, 4); // byte 4 is inside 'é' (bytes 3..5)
        assert!(c.starts_with("aéa\n"), "{c}");
        assert!(
            c.contains("truncated to 4 of 30 bytes") || c.contains("truncated to 3 of 30 bytes"),
            "{c}"
        );
    }

    #[test]
    fn proc_parsers() {
        let cpu = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(
            parse_cpu_model(cpu).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(parse_cpu_model("processor: 0\n"), None);
        let mem = "MemTotal:       24576000 kB\nMemFree:  1 kB\n";
        assert_eq!(parse_mem_total(mem), Some(24576000 * 1024));
        assert_eq!(parse_mem_total("MemFree: 1 kB"), None);
        assert_eq!(
            parse_nvidia_smi("NVIDIA H100 80GB HBM3, 81559 MiB\n\n").as_deref(),
            Some("NVIDIA H100 80GB HBM3, 81559 MiB")
        );
        assert_eq!(parse_nvidia_smi("\n"), None);
        assert_eq!(
            slurm_job_from(Some("7"), Some("5"), Some("2")).as_deref(),
            Some("5_2")
        );
        assert_eq!(slurm_job_from(Some("7"), None, None).as_deref(), Some("7"));
        assert_eq!(slurm_job_from(None, None, None), None);
    }

    #[test]
    fn collect_never_fails_outside_a_repo() {
        let dir = tempfile::tempdir().unwrap();
        let p = collect_provenance(dir.path());
        assert_eq!(p.git_commit, None);
        assert_eq!(p.cargo_lock_sha256, None);
        assert_eq!(p.pid, Some(std::process::id() as i64));
        assert!(p.cores.unwrap_or(0) >= 1);
    }
}
