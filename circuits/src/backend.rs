//! Where a proof's commitments (its Poseidon Merkle trees) are built: on the CPU, or on a GPU
//! through crowdprove-gpu. Chosen once per process, before its first proof; a GPU is trusted
//! only once it has passed a known-answer self-test against the CPU.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crowdprove_gpu::{Adapters, Gpu, GpuBackend, race, self_test};
use plonky2::backend::set_commit_backend;

/// The backend asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// plonky2's own code on the CPU's cores.
    Cpu,
    /// The GPU (the best adapter found, a software driver included): an error if none works.
    Gpu,
    /// A hardware GPU if one works and commits faster than the CPU, else the CPU.
    Auto,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
            Backend::Auto => "auto",
        })
    }
}

/// A backend name that is not cpu, gpu or auto.
#[derive(Debug, thiserror::Error)]
#[error("unknown backend {0:?}: expected cpu, gpu or auto")]
pub struct UnknownBackend(String);

impl FromStr for Backend {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Backend::Cpu),
            "gpu" => Ok(Backend::Gpu),
            "auto" => Ok(Backend::Auto),
            other => Err(UnknownBackend(other.to_string())),
        }
    }
}

/// `--backend gpu` with no GPU that works.
#[derive(Debug, thiserror::Error)]
#[error("no usable GPU: {0}")]
pub struct NoGpu(String);

/// What a process proves on, once chosen.
pub struct Chosen {
    /// What was asked for: a worker told `auto` may still fall back.
    asked: Backend,
    gpu: Option<Arc<Gpu>>,
    /// Why `auto` fell back to the CPU, if it did.
    pub fallback: Option<String>,
}

impl Chosen {
    /// What to ask a worker process for: `cpu` when this fell back (so it does not try
    /// again), else what was asked (so a worker told `auto` falls back on its own should its
    /// GPU fail there, rather than fail).
    pub fn backend(&self) -> Backend {
        if self.gpu.is_some() {
            self.asked
        } else {
            Backend::Cpu
        }
    }

    /// Whether this proves on a GPU.
    pub fn is_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// Makes every proof of this process use this backend.
    pub fn install(&self) {
        set_commit_backend(self.gpu.clone().map(|g| Arc::new(GpuBackend::new(g)) as _));
    }
}

impl fmt::Display for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.gpu, &self.fallback) {
            (Some(g), _) if g.is_software() => {
                write!(
                    f,
                    "gpu ({}; a software driver, slower than a GPU)",
                    g.describe()
                )
            }
            (Some(g), _) => write!(f, "gpu ({})", g.describe()),
            (None, Some(why)) => write!(f, "cpu (auto: {why})"),
            (None, None) => f.write_str("cpu"),
        }
    }
}

/// Opens and self-tests the GPU where `backend` asks for one (and for `Auto`, races it against
/// the CPU). `Auto` falls back to the CPU, saying why in `Chosen::fallback`; `Gpu` fails instead.
pub fn choose(backend: Backend) -> Result<Chosen, NoGpu> {
    let adapters = match backend {
        Backend::Cpu => {
            return Ok(Chosen {
                asked: backend,
                gpu: None,
                fallback: None,
            });
        }
        Backend::Gpu => Adapters::Any,
        Backend::Auto => Adapters::Hardware,
    };
    let opened = Gpu::new(adapters).and_then(|gpu| {
        self_test(&gpu).map_err(|e| e.context("the GPU failed its self-test"))?;
        if backend == Backend::Auto {
            // A weak integrated GPU can be slower than the cores beside it.
            let (on_gpu, on_cpu) = race(&gpu)?;
            anyhow::ensure!(
                on_gpu < on_cpu,
                "{} commits slower than the CPU ({on_gpu:.3} s against {on_cpu:.3} s)",
                gpu.describe()
            );
        }
        Ok(gpu)
    });
    match opened {
        Ok(gpu) => Ok(Chosen {
            asked: backend,
            gpu: Some(Arc::new(gpu)),
            fallback: None,
        }),
        Err(e) if backend == Backend::Auto => Ok(Chosen {
            asked: backend,
            gpu: None,
            fallback: Some(format!("{e:#}")),
        }),
        Err(e) => Err(NoGpu(format!("{e:#}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        for b in [Backend::Cpu, Backend::Gpu, Backend::Auto] {
            assert_eq!(b.to_string().parse::<Backend>().unwrap(), b);
        }
        let e = "GPU".parse::<Backend>().unwrap_err().to_string();
        assert!(e.contains("expected cpu, gpu or auto"), "{e}");
    }

    #[test]
    fn cpu_opens_nothing() {
        let c = choose(Backend::Cpu).unwrap();
        assert_eq!(
            (c.backend(), c.to_string()),
            (Backend::Cpu, "cpu".to_string())
        );
    }

    /// `auto` never settles for a software driver: on a machine without a GPU (CI's, with
    /// lavapipe installed) it falls back to the CPU and says why; `gpu` takes the driver.
    /// (A hardware GPU slower than the CPU is refused by `auto` too; `race` times the two.)
    #[test]
    fn auto_takes_hardware_only_and_gpu_takes_what_there_is() {
        let auto = choose(Backend::Auto).unwrap();
        match &auto.gpu {
            Some(g) => assert!(!g.is_software(), "{auto}"),
            None => {
                let why = auto.fallback.as_deref().unwrap_or_default();
                assert!(
                    [
                        "no hardware GPU adapter",
                        "no GPU adapter",
                        "slower than the CPU"
                    ]
                    .iter()
                    .any(|r| why.contains(r)),
                    "{why}"
                );
                assert!(auto.to_string().starts_with("cpu (auto: "), "{auto}");
            }
        }
        // A worker is told `cpu` after a fallback, so it does not try again.
        if auto.gpu.is_none() {
            assert_eq!(auto.backend(), Backend::Cpu);
        } else {
            assert_eq!(auto.backend(), Backend::Auto);
        }
        let gpu = choose(Backend::Gpu).expect("a GPU adapter (make setup installs lavapipe)");
        assert_eq!(gpu.backend(), Backend::Gpu);
        let g = gpu.gpu.as_ref().unwrap();
        assert_eq!(
            gpu.to_string().contains("software driver"),
            g.is_software(),
            "{gpu}"
        );
    }
}
