//! Plots (SVG and PNG) of the paper's Table 2 and of the policy comparison, drawn with
//! plotters and the bundled DejaVu Sans (no system fonts needed).

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::compare::{FRACTIONS, POLICIES, Row};
use crate::paper::{PaperReport, ZKSYNC_MINUTES};
use crate::scenario::FaultKind;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled font is valid; an error here would only lose text, not the plot.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

const COLORS: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

type DrawResult = anyhow::Result<()>;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing: {e:?}")
}

/// A drawing that any backend can render.
trait Figure {
    fn go<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// Writes `name.svg` and `name.png` in `dir` with the same drawing.
fn both(dir: &Path, name: &str, size: (u32, u32), fig: &impl Figure) -> DrawResult {
    register_font();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let svg = dir.join(format!("{name}.svg"));
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.go(&root)?;
        root.present().map_err(err)?;
    }
    let png = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.go(&root)?;
        root.present().map_err(err)?;
    }
    Ok(())
}

/// Table 2 as the paper's Figure 2 (log scales): simulated lines, the paper's points, and
/// zkSync's 38.70 minutes.
pub fn table2(dir: &Path, report: &PaperReport) -> DrawResult {
    struct Draw<'a>(&'a PaperReport);
    impl Figure for Draw<'_> {
        fn go<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
        where
            DB::ErrorType: 'static,
        {
            let mut chart = ChartBuilder::on(root)
                .caption("17,188 jobs: proving time vs provers", ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d((8f64..4_000f64).log_scale(), (1f64..4_000f64).log_scale())
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("provers")
                .y_desc("minutes")
                .label_style(("sans-serif", 14))
                .draw()
                .map_err(err)?;
            for (i, (hw, cells)) in self.0.table2.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(
                        cells.iter().map(|c| (f64::from(c.provers), c.sim)),
                        color.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(format!("{} (sim)", hw.label()))
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(cells.iter().map(|c| {
                        Cross::new((f64::from(c.provers), c.paper), 5, color.stroke_width(2))
                    }))
                    .map_err(err)?;
            }
            chart
                .draw_series(LineSeries::new(
                    [(8.0, ZKSYNC_MINUTES), (4_000.0, ZKSYNC_MINUTES)],
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?
                .label("zkSync today (38.70 min); x = paper")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(err)?;
            Ok(())
        }
    }
    both(dir, "sim-table2", (900, 600), &Draw(report))
}

/// Makespan against the share of faulty provers, one panel per fault kind and one line per
/// policy, for faults that strike at `strike`.
pub fn compare(dir: &Path, rows: &[Row], strike: &str) -> DrawResult {
    struct Draw<'a>(&'a [Row], &'a str);
    impl Figure for Draw<'_> {
        fn go<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
        where
            DB::ErrorType: 'static,
        {
            let (rows, strike) = (self.0, self.1);
            let titled = root
                .titled(
                    &format!("Makespan vs faulty provers (faults strike: {strike})"),
                    ("sans-serif", 24),
                )
                .map_err(err)?;
            let panels = titled.split_evenly((2, 4));
            // Seven fault kinds on 8-core CPUs, then crashes on mixed hardware.
            let kinds = FaultKind::ALL
                .iter()
                .map(|&k| (k, false))
                .chain([(FaultKind::Crash, true)]);
            for (panel, (kind, mixed)) in panels.iter().zip(kinds) {
                let title = if mixed {
                    "crash, mixed hardware".to_string()
                } else {
                    kind.label().to_string()
                };
                // Each panel has its own scale: a run that gave up (8 h) would flatten the rest.
                let max = rows
                    .iter()
                    .filter(|r| {
                        r.mixed == mixed
                            && (r.fault.is_none() || r.fault == Some(kind) && r.strike == strike)
                    })
                    .map(|r| r.makespan_min)
                    .fold(0.0, f64::max)
                    * 1.15;
                let mut chart = ChartBuilder::on(panel)
                    .caption(title, ("sans-serif", 18))
                    .margin(8)
                    .x_label_area_size(30)
                    .y_label_area_size(45)
                    .build_cartesian_2d(0f64..45f64, 0f64..max.max(1.0))
                    .map_err(err)?;
                chart
                    .configure_mesh()
                    .x_desc("faulty %")
                    .y_desc("minutes")
                    .label_style(("sans-serif", 12))
                    .draw()
                    .map_err(err)?;
                for (i, policy) in POLICIES.iter().enumerate() {
                    let color = COLORS[i % COLORS.len()];
                    let points: Vec<(f64, f64)> = FRACTIONS
                        .iter()
                        .filter_map(|&f| {
                            rows.iter()
                                .find(|r| {
                                    r.mixed == mixed
                                        && r.policy == *policy
                                        && r.fraction == f
                                        && (f == 0.0 && r.fault.is_none()
                                            || r.fault == Some(kind) && r.strike == strike)
                                })
                                .map(|r| (f * 100.0, r.makespan_min))
                        })
                        .collect();
                    chart
                        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                        .map_err(err)?
                        .label(policy.label())
                        .legend(move |(x, y)| {
                            PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                        });
                    chart
                        .draw_series(
                            points
                                .into_iter()
                                .map(|p| Circle::new(p, 3, color.filled())),
                        )
                        .map_err(err)?;
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .background_style(WHITE.mix(0.85))
                    .label_font(("sans-serif", 11))
                    .draw()
                    .map_err(err)?;
            }
            Ok(())
        }
    }
    both(
        dir,
        &format!("sim-compare-{strike}"),
        (1350, 800),
        &Draw(rows, strike),
    )
}
