//! Draws `benches/throughput.svg`: MB/s per pipeline and workload, from the data criterion
//! saved for the last `cargo bench --bench throughput` run.
//!
//! ```sh
//! cargo bench --bench throughput
//! cargo run --example bench_chart [CRITERION_DIR [OUTPUT]]
//! ```
//!
//! CRITERION_DIR defaults to `target/criterion`, OUTPUT to `benches/throughput.svg`. Each
//! bar is a benchmark's bytes per iteration (`new/benchmark.json`) over its median time
//! (`new/estimates.json`), as in `benches/RESULTS.md`.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// The workloads in the order of the README's tables; others follow, sorted.
const WORKLOADS: [&str; 6] = [
    "traffic-64KiB-reads",
    "traffic-16B-reads",
    "8MiB-event-1460B-reads",
    "8MiB-event-one-read",
    "multiline-64KiB-reads",
    "shuffled-64KiB-reads",
];

/// The two groups: name, title, and the pipelines in the order of the README's columns.
const GROUPS: [(&str, &str, [&str; 4]); 2] = [
    (
        "framing",
        "framing: bytes in, events out",
        [
            "ssechunk",
            "sse-stream",
            "eventsource-stream",
            "memchr2-limit",
        ],
    ),
    (
        "decode",
        "decode: events and their JSON, into a chunk",
        [
            "ssechunk",
            "sse-stream+async-openai",
            "eventsource-stream+async-openai",
            "naive+serde-borrowed",
        ],
    ),
];

const COLORS: [RGBColor; 4] = [
    RGBColor(217, 95, 2),
    RGBColor(49, 130, 189),
    RGBColor(107, 174, 214),
    RGBColor(189, 189, 189),
];

/// MB/s by group, workload and pipeline.
type Figures = BTreeMap<(String, String, String), f64>;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = args
        .next()
        .map_or_else(|| root.join("target/criterion"), PathBuf::from);
    let output = args
        .next()
        .map_or_else(|| root.join("benches/throughput.svg"), PathBuf::from);

    let mut figures = Figures::new();
    collect(&dir, &mut figures)?;
    if figures.is_empty() {
        return Err(format!(
            "no criterion data under {}: run `cargo bench --bench throughput` first",
            dir.display()
        )
        .into());
    }
    draw(&figures, &output)?;
    println!(
        "{}: {} benchmarks from {}",
        output.display(),
        figures.len(),
        dir.display()
    );
    Ok(())
}

/// Finds every `new/benchmark.json` under `dir` and reads its throughput and median.
fn collect(dir: &Path, figures: &mut Figures) -> Result<(), Box<dyn Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let benchmark = path.join("new/benchmark.json");
        if benchmark.is_file() && path.file_name().is_some_and(|n| n != "report") {
            read_one(&path.join("new"), figures)?;
        } else if path.file_name().is_some_and(|n| n != "new" && n != "base") {
            collect(&path, figures)?;
        }
    }
    Ok(())
}

fn read_one(new: &Path, figures: &mut Figures) -> Result<(), Box<dyn Error>> {
    let json = |name: &str| -> Result<Value, Box<dyn Error>> {
        Ok(serde_json::from_str(&std::fs::read_to_string(
            new.join(name),
        )?)?)
    };
    let benchmark = json("benchmark.json")?;
    let estimates = json("estimates.json")?;
    let group_id = benchmark["group_id"].as_str().unwrap_or_default();
    let Some((group, workload)) = group_id.split_once('/') else {
        return Ok(());
    };
    let pipeline = benchmark["function_id"].as_str().unwrap_or_default();
    let throughput = &benchmark["throughput"];
    let bytes = throughput["Bytes"]
        .as_u64()
        .or_else(|| throughput["BytesDecimal"].as_u64());
    let median_ns = estimates["median"]["point_estimate"].as_f64();
    if let (Some(bytes), Some(ns)) = (bytes, median_ns) {
        let mb_per_s = bytes as f64 / ns * 1e3;
        figures.insert((group.into(), workload.into(), pipeline.into()), mb_per_s);
    }
    Ok(())
}

/// `12345.6` as `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn draw(figures: &Figures, output: &Path) -> Result<(), Box<dyn Error>> {
    let mut workloads: Vec<String> = WORKLOADS.iter().map(|w| w.to_string()).collect();
    for (_, workload, _) in figures.keys() {
        if !workloads.contains(workload) {
            workloads.push(workload.clone());
        }
    }
    workloads.retain(|w| figures.keys().any(|(_, wl, _)| wl == w));
    let n = workloads.len() as f64;

    let root = SVGBackend::new(output, (1100, 1000)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "ssechunk against the Rust SSE peers: MB/s per pipeline (criterion medians, log scale)",
        ("sans-serif", 20),
    )?;
    let panels = root.split_evenly((2, 1));
    for ((group, title, pipelines), area) in GROUPS.iter().zip(panels.iter()) {
        // Room above the tallest bar for its label and the legend.
        let max = figures
            .iter()
            .filter(|((g, _, _), _)| g == group)
            .fold(100.0, |max, (_, &v)| f64::max(max, v));
        let top = max * 5.0;
        let mut chart = ChartBuilder::on(area)
            .caption(*title, ("sans-serif", 16))
            .margin(10)
            .margin_right(20)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..n, (10f64..top).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_desc("MB/s")
            .y_label_formatter(&|v| thousands(*v))
            .draw()?;
        let width = 0.8 / pipelines.len() as f64;
        for (p, (pipeline, color)) in pipelines.iter().zip(COLORS).enumerate() {
            let mut bars = Vec::new();
            let mut skipped = Vec::new();
            for (w, workload) in workloads.iter().enumerate() {
                let x = w as f64 + 0.1 + p as f64 * width;
                let key = (group.to_string(), workload.clone(), pipeline.to_string());
                match figures.get(&key) {
                    Some(&v) => bars.push((x, v)),
                    None => skipped.push(x),
                }
            }
            chart
                .draw_series(bars.iter().map(|&(x, v)| {
                    Rectangle::new([(x, 10.0), (x + width * 0.9, v)], color.filled())
                }))?
                .label(*pipeline)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
            let label = ("sans-serif", 10)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom));
            chart.draw_series(bars.iter().map(|&(x, v)| {
                Text::new(thousands(v), (x + width * 0.45, v * 1.08), label.clone())
            }))?;
            // A pipeline the bench skipped on a workload (too slow there) says so.
            chart.draw_series(
                skipped
                    .iter()
                    .map(|&x| Text::new("skipped", (x + width * 0.45, 11.0), label.clone())),
            )?;
        }
        let name_style = ("sans-serif", 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        // The workload names under their bars, in the panel's own pixels.
        let (base_x, base_y) = area.get_base_pixel();
        for (w, workload) in workloads.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(w as f64 + 0.5, 10.0));
            let at = (x - base_x, y - base_y + 8);
            area.draw(&Text::new(workload.as_str(), at, name_style.clone()))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
