//! Generates bf16-like LoRA weights for the benchmarks (`benches/package_bench.sh`): a
//! safetensors file of 16 MiB tensors holding normal(0, 0.02) floats truncated to bf16, the
//! distribution of trained adapter weights. Uniform random bytes would not do: they do not
//! compress, while real bf16 weights compress to about 0.78 (docs/ARCHIVE_FORMAT.md).
//!
//! Usage: `bench-gen-weights OUT.safetensors BYTES [SEED]`. Deterministic for a given seed.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

const TENSOR_BYTES: u64 = 16 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: bench-gen-weights OUT.safetensors BYTES [SEED]".into());
    }
    let total: u64 = args[2].parse()?;
    let seed: u64 = args.get(3).map_or(Ok(42), |s| s.parse())?;

    // Header: one 1-D BF16 tensor per 16 MiB, named like a PEFT LoRA adapter's.
    let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
    let (mut offset, mut i) = (0u64, 0u64);
    while offset < total {
        let n = (total - offset).min(TENSOR_BYTES) & !1;
        if n == 0 {
            break;
        }
        let ab = if i % 2 == 0 { "A" } else { "B" };
        write!(
            header,
            ",\"base_model.model.model.layers.{}.self_attn.q_proj.lora_{ab}.weight\":{{\"dtype\":\"BF16\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            i / 2,
            n / 2,
            offset + n
        )?;
        offset += n;
        i += 1;
    }
    header.push('}');
    while (8 + header.len()) % 8 != 0 {
        header.push(' ');
    }

    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[1])?);
    out.write_all(&(header.len() as u64).to_le_bytes())?;
    out.write_all(header.as_bytes())?;

    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut left = offset;
    while left > 0 {
        chunk.clear();
        let n = left.min(1 << 20) as usize;
        while chunk.len() < n {
            let (u1, u2) = (next().max(1e-300), next());
            let r = (-2.0 * u1.ln()).sqrt();
            let t = 2.0 * std::f64::consts::PI * u2;
            for z in [r * t.cos(), r * t.sin()] {
                let bits = ((z * 0.02) as f32).to_bits() >> 16;
                chunk.extend_from_slice(&(bits as u16).to_le_bytes());
            }
        }
        chunk.truncate(n);
        out.write_all(&chunk)?;
        left -= n as u64;
    }
    out.flush()?;
    Ok(())
}
