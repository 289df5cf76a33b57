//! Benchmark of the tiny and small presets: `cargo run --release -p seds-model --example bench
//! [steps] [batch] [frames] [clips]`.

use seds_config::ModelSize;

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|s| s.parse().ok())
        .collect();
    let get = |i: usize, d: usize| a.get(i).copied().unwrap_or(d);
    let (steps, batch, frames, clips) = (get(0, 3), get(1, 16), get(2, 64), get(3, 48));
    for size in [ModelSize::Tiny, ModelSize::Small] {
        let r = seds_model::bench(size, steps, batch, frames, clips);
        println!("{r}\n");
    }
}
