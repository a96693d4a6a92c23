//! Scene → Plan: validates a song (names, routing, cycles, ranges) and lays out its render
//! as stages over stereo buffers, in an order where everything feeding a bus (or keying a
//! sidechain) is finished before the bus runs.
//!
//! Per track: load → inserts → pre-fader sends → fader+pan → automation → fades →
//! post-fader sends → output bus. Per bus: inserts → fader → output. Master: inserts. The
//! song's closing (loudness target, the master chain's closing limiter, the song fades) and
//! its output file are the [`SceneDelivery`] beside the Plan ([`crate::engine::closing`]).

use std::collections::HashMap;
use std::path::PathBuf;

use super::{InsertSpec, LoadedSong, Track};
use crate::engine::{Fades, DEFAULT_CEILING_DBTP};
use crate::error::{Error, Result};
use crate::ops::envelope::Envelope;
use crate::ops::gain::{db_to_linear, pan_balance, pan_mono};
use crate::ops::limiter::Limiter;
use crate::ops::{LoadAudio, PrepareCtx, Processor};
use crate::plan::{BufId, OutputFormat, Plan, Source, Stage};

/// Pieces a fade curve is sampled into (equal-power quarter-sine; chord error ≤ (π/2/256)²/8 ≈ 5e-6).
const FADE_PIECES: usize = 256;
/// Largest gain change, in dB, inside one linear piece of dB automation.
const AUTOMATION_DB_STEP: f64 = 0.05;
/// Largest pan change inside one linear piece of pan automation.
const AUTOMATION_PAN_STEP: f64 = 0.01;

/// What the compiler needs to know about each decoded source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    /// frames at the render rate
    pub frames: usize,
    /// 1 (mono) or 2 (stereo)
    pub channels: usize,
}

/// Node of the routing graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Track(usize),
    Bus(usize),
    Master,
}

/// A validated song: which tracks play, and the order nodes render in.
#[derive(Debug, Clone)]
pub struct Validated {
    /// indices of the tracks that play (not muted, soloed when any solo is set)
    pub audible: Vec<usize>,
    /// audio files the audible tracks read, resolved against the scene folder
    pub files: Vec<PathBuf>,
    order: Vec<Node>,
    sample_rate: u32,
}

/// Checks a song and works out its routing order. Errors are [`Error::Scene`] with the
/// line of the offending field.
pub fn validate(s: &LoadedSong) -> Result<Validated> {
    let song = &s.song;
    let sample_rate = song.sample_rate.ok_or_else(|| {
        s.error_at(
            None,
            "sample_rate: missing (set it in the song or the album's [defaults])",
        )
    })?;
    if sample_rate == 0 || sample_rate > 768_000 {
        return Err(s.error_at(
            None,
            format!("sample_rate: {sample_rate} Hz is not a usable rate (expected 8000…768000)"),
        ));
    }
    if song.tracks.is_empty() {
        return Err(s.error_at(None, "a song needs at least one [[track]]"));
    }
    for (what, v) in [
        ("fade_in_s", song.fade_in_s),
        ("fade_out_s", song.fade_out_s),
        ("tail_s", song.tail_s),
    ] {
        if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(s.error_at(None, format!("{what}: {v} (expected seconds ≥ 0)")));
        }
    }
    let mut names: HashMap<&str, Node> = HashMap::new();
    for (i, t) in song.tracks.iter().enumerate() {
        let n = t.name.get_ref().as_str();
        if n.is_empty() || n == "master" || names.insert(n, Node::Track(i)).is_some() {
            return Err(s.error_at(
                Some(t.name.span().start),
                format!("track name '{n}' is empty, 'master' or used twice"),
            ));
        }
        if !(t.pan.is_finite() && (-1.0..=1.0).contains(&t.pan)) {
            return Err(s.error_at(
                Some(t.name.span().start),
                format!("track '{n}': pan {} outside −1…1", t.pan),
            ));
        }
        for (what, v) in [
            ("gain_db", t.gain_db),
            ("fade_in_s", t.fade_in_s),
            ("fade_out_s", t.fade_out_s),
        ] {
            if !v.is_finite() || (what != "gain_db" && v < 0.0) {
                return Err(s.error_at(
                    Some(t.name.span().start),
                    format!("track '{n}': {what} = {v} is not valid"),
                ));
            }
        }
        for (what, pts) in [
            ("automation.gain_db", &t.automation.gain_db),
            ("automation.pan", &t.automation.pan),
        ] {
            for w in pts.windows(2) {
                if w[1][0] < w[0][0] {
                    return Err(s.error_at(
                        Some(t.name.span().start),
                        format!("track '{n}': {what} times must increase"),
                    ));
                }
            }
            if let Some(p) = pts
                .iter()
                .find(|p| !(p[0].is_finite() && p[1].is_finite() && p[0] >= 0.0))
            {
                return Err(s.error_at(
                    Some(t.name.span().start),
                    format!("track '{n}': {what} point {p:?} is not [seconds ≥ 0, value]"),
                ));
            }
            if what == "automation.pan" && pts.iter().any(|p| !(-1.0..=1.0).contains(&p[1])) {
                return Err(s.error_at(
                    Some(t.name.span().start),
                    format!("track '{n}': automation.pan values must be in −1…1"),
                ));
            }
        }
    }
    for (i, b) in song.buses.iter().enumerate() {
        let n = b.name.get_ref().as_str();
        if n.is_empty() || n == "master" || names.insert(n, Node::Bus(i)).is_some() {
            return Err(s.error_at(
                Some(b.name.span().start),
                format!("bus name '{n}' is empty, 'master' or already used by a track or bus"),
            ));
        }
    }
    let bus_ref = |name: &toml::Spanned<String>| -> Result<Node> {
        match name.get_ref().as_str() {
            "master" => Ok(Node::Master),
            n => match names.get(n) {
                Some(Node::Bus(b)) => Ok(Node::Bus(*b)),
                Some(_) => Err(s.error_at(
                    Some(name.span().start),
                    format!("'{n}' is a track; only buses (or 'master') can be routed to"),
                )),
                None => Err(s.error_at(
                    Some(name.span().start),
                    format!("no bus named '{n}' (known buses: {})", bus_list(s)),
                )),
            },
        }
    };
    // edges: from → to (from must render before to)
    let mut edges: Vec<(Node, Node)> = Vec::new();
    let key_ref = |spec: &InsertSpec, at: usize| -> Result<Option<Node>> {
        match spec.sidechain() {
            None => Ok(None),
            Some(n) => names.get(n).copied().map(Some).ok_or_else(|| {
                s.error_at(
                    Some(at),
                    format!("sidechain '{n}': no track or bus of that name"),
                )
            }),
        }
    };
    for (i, t) in song.tracks.iter().enumerate() {
        let out = t.output.as_ref().map_or(Ok(Node::Master), bus_ref)?;
        edges.push((Node::Track(i), out));
        for send in &t.sends {
            edges.push((Node::Track(i), bus_ref(&send.bus)?));
        }
        for spec in &t.chain {
            if let Some(k) = key_ref(spec, t.name.span().start)? {
                edges.push((k, Node::Track(i)));
            }
        }
    }
    for (i, b) in song.buses.iter().enumerate() {
        edges.push((
            Node::Bus(i),
            b.output.as_ref().map_or(Ok(Node::Master), bus_ref)?,
        ));
        for spec in &b.chain {
            if let Some(k) = key_ref(spec, b.name.span().start)? {
                edges.push((k, Node::Bus(i)));
            }
        }
    }
    for spec in song.master.chain.iter().flatten() {
        if let Some(k) = key_ref(spec, 0)? {
            edges.push((k, Node::Master));
        }
    }
    let mut nodes: Vec<Node> = (0..song.tracks.len()).map(Node::Track).collect();
    nodes.extend((0..song.buses.len()).map(Node::Bus));
    nodes.push(Node::Master);
    let order = topo_order(&nodes, &edges).map_err(|cycle| {
        let names: Vec<String> = cycle.iter().map(|n| node_name(s, *n)).collect();
        s.error_at(
            None,
            format!(
                "routing cycle: {} (buses may feed buses, but not in a loop)",
                names.join(" → ")
            ),
        )
    })?;
    let any_solo = song.tracks.iter().any(|t| t.solo);
    let audible: Vec<usize> = (0..song.tracks.len())
        .filter(|&i| !song.tracks[i].mute && (!any_solo || song.tracks[i].solo))
        .collect();
    let files = audible
        .iter()
        .map(|&i| s.dir.join(song.tracks[i].file.get_ref()))
        .collect();
    Ok(Validated {
        audible,
        files,
        order,
        sample_rate,
    })
}

fn bus_list(s: &LoadedSong) -> String {
    let mut v: Vec<&str> = s
        .song
        .buses
        .iter()
        .map(|b| b.name.get_ref().as_str())
        .collect();
    v.push("master");
    v.join(", ")
}

fn node_name(s: &LoadedSong, n: Node) -> String {
    match n {
        Node::Track(i) => s.song.tracks[i].name.get_ref().clone(),
        Node::Bus(i) => s.song.buses[i].name.get_ref().clone(),
        Node::Master => "master".into(),
    }
}

/// Kahn's algorithm, stable (ties keep the scene's order). On a cycle returns its nodes.
fn topo_order(nodes: &[Node], edges: &[(Node, Node)]) -> std::result::Result<Vec<Node>, Vec<Node>> {
    let mut indeg: HashMap<Node, usize> = nodes.iter().map(|n| (*n, 0)).collect();
    for (_, to) in edges {
        *indeg.entry(*to).or_default() += 1;
    }
    let mut done = Vec::with_capacity(nodes.len());
    let mut placed: HashMap<Node, bool> = HashMap::new();
    while done.len() < nodes.len() {
        let Some(&next) = nodes
            .iter()
            .find(|n| !placed.contains_key(n) && indeg[n] == 0)
        else {
            return Err(nodes
                .iter()
                .filter(|n| !placed.contains_key(n) && matches!(n, Node::Bus(_) | Node::Track(_)))
                .copied()
                .collect());
        };
        placed.insert(next, true);
        done.push(next);
        for (from, to) in edges {
            if *from == next {
                *indeg.get_mut(to).expect("node") -= 1;
            }
        }
    }
    Ok(done)
}

/// The file song `s` is written to, relative to the output folder: its `[output] file`, or
/// its title made safe with the format's extension.
pub fn output_file(s: &LoadedSong) -> String {
    let format = s.song.output.format.unwrap_or(OutputFormat::Wav24);
    s.song.output.file.clone().unwrap_or_else(|| {
        format!(
            "{}.{}",
            crate::core::safe_file_name(&s.title()),
            format.extension()
        )
    })
}

/// Builds the Plan for a validated song, given what its sources turned out to be
/// (`infos[k]` belongs to `v.files[k]`). `load_audio` loads impulse responses.
pub fn compile(
    s: &LoadedSong,
    v: &Validated,
    infos: &[SourceInfo],
    load_audio: LoadAudio<'_>,
) -> Result<(Plan, SceneDelivery)> {
    let song = &s.song;
    let rate = v.sample_rate;
    let ctx = PrepareCtx {
        sample_rate: rate,
        scene_dir: &s.dir,
        tempo_bpm: song.tempo_bpm,
        load_audio,
    };
    // prepare every insert that plays (IRs load here), then size the song from their tails
    let any_solo = song.tracks.iter().any(|t| t.solo);
    let playing = song
        .tracks
        .iter()
        .filter(|t| !t.mute && (!any_solo || t.solo))
        .flat_map(|t| &t.chain);
    let mut prepared: HashMap<*const InsertSpec, Processor> = HashMap::new();
    for spec in playing
        .chain(song.buses.iter().flat_map(|b| &b.chain))
        .chain(song.master.chain.iter().flatten())
    {
        prepared.insert(spec as *const InsertSpec, spec.prepare(&ctx)?);
    }
    let fx_tail_s = prepared
        .values()
        .map(Processor::tail_seconds)
        .fold(0.0, f64::max);
    let prepared = std::cell::RefCell::new(prepared);
    let longest = infos.iter().map(|i| i.frames).max().unwrap_or(0);
    let frames =
        longest + ((song.tail_s.unwrap_or(0.0) + fx_tail_s) * f64::from(rate)).round() as usize;
    let sec = |t: f64| (t * f64::from(rate)).round().max(0.0) as u64;

    // buffers: 0 = master, then one per bus, then one per audible track
    let bus_buf = |b: usize| 1 + b;
    let track_slot: HashMap<usize, usize> =
        v.audible.iter().enumerate().map(|(k, &t)| (t, k)).collect();
    let track_buf = |k: usize| 1 + song.buses.len() + k;
    let buf_of = |n: Node| match n {
        Node::Master => Some(0),
        Node::Bus(b) => Some(bus_buf(b)),
        Node::Track(t) => track_slot.get(&t).map(|&k| track_buf(k)),
    };
    let dest = |o: &Option<toml::Spanned<String>>| -> BufId {
        match o.as_ref().map(|n| n.get_ref().as_str()) {
            None | Some("master") => 0,
            Some(n) => bus_buf(
                song.buses
                    .iter()
                    .position(|b| b.name.get_ref() == n)
                    .expect("validated"),
            ),
        }
    };
    let key_of = |spec: &InsertSpec| -> Option<BufId> {
        spec.sidechain().and_then(|n| {
            song.tracks
                .iter()
                .position(|t| t.name.get_ref() == n)
                .and_then(|t| buf_of(Node::Track(t)))
                .or_else(|| {
                    song.buses
                        .iter()
                        .position(|b| b.name.get_ref() == n)
                        .map(bus_buf)
                })
        })
    };
    let prep = |buf: BufId, spec: &InsertSpec| -> Result<Stage> {
        Ok(Stage::Process {
            buf,
            sidechain: key_of(spec),
            processor: Box::new(
                match prepared.borrow_mut().remove(&(spec as *const InsertSpec)) {
                    Some(p) => p,
                    None => spec.prepare(&ctx)?,
                },
            ),
        })
    };

    let ceiling = song.master.ceiling_dbtp.unwrap_or(DEFAULT_CEILING_DBTP);
    let mut mastering_limiter = None;
    let mut stages = Vec::new();
    for node in &v.order {
        match *node {
            Node::Track(t) => {
                let Some(&k) = track_slot.get(&t) else {
                    continue;
                };
                let track = &song.tracks[t];
                let buf = track_buf(k);
                stages.push(Stage::Load {
                    dst: buf,
                    source: k,
                });
                for spec in &track.chain {
                    stages.push(prep(buf, spec)?);
                }
                let sends = |pre: bool, stages: &mut Vec<Stage>| {
                    for send in track.sends.iter().filter(|x| x.pre_fader == pre) {
                        let g = db_to_linear(send.level_db) as f32;
                        stages.push(Stage::Mix {
                            dst: dest(&Some(send.bus.clone())),
                            src: buf,
                            gain: [g, g],
                        });
                    }
                };
                sends(true, &mut stages);
                track_strip(&mut stages, buf, track, infos[k].channels, frames, sec);
                sends(false, &mut stages);
                stages.push(Stage::Mix {
                    dst: dest(&track.output),
                    src: buf,
                    gain: [1.0, 1.0],
                });
            }
            Node::Bus(b) => {
                let bus = &song.buses[b];
                let buf = bus_buf(b);
                for spec in &bus.chain {
                    stages.push(prep(buf, spec)?);
                }
                if bus.gain_db != 0.0 {
                    let g = db_to_linear(bus.gain_db) as f32;
                    stages.push(Stage::Gain { buf, gain: [g, g] });
                }
                stages.push(Stage::Mix {
                    dst: dest(&bus.output),
                    src: buf,
                    gain: [1.0, 1.0],
                });
            }
            Node::Master => {
                let chain = song.master.chain.as_deref().unwrap_or_default();
                let (chain, closing) = match chain.split_last() {
                    Some((InsertSpec::Limiter(l), rest)) => (rest, Some(l)),
                    _ => (chain, None),
                };
                for spec in chain {
                    stages.push(prep(0, spec)?);
                }
                if let Some(l) = closing {
                    let spec = crate::ops::limiter::LimiterSpec {
                        ceiling_dbtp: ceiling,
                        ..l.clone()
                    };
                    mastering_limiter = Some(spec.prepare(&ctx)?);
                }
            }
        }
    }
    let pd = song.master.preset_delivery;
    let format = match (song.output.format, pd.bits) {
        (Some(f), _) => f,
        (None, Some(16)) => OutputFormat::Wav16,
        (None, Some(32)) => OutputFormat::Wav32f,
        (None, Some(24) | None) => OutputFormat::Wav24,
        (None, Some(b)) => {
            return Err(Error::scene(
                &s.path,
                format!("master.preset: bits = {b} (expected 16, 24 or 32)"),
            ))
        }
    };
    let delivery_rate = song
        .output
        .sample_rate_hz
        .or(pd.sample_rate_hz)
        .unwrap_or(rate);
    if delivery_rate == 0 || delivery_rate > 768_000 {
        return Err(Error::scene(
            &s.path,
            format!("[output] sample_rate_hz: {delivery_rate} Hz is not a usable rate"),
        ));
    }
    let file = output_file(s);
    let mut metadata = song.metadata.clone();
    if let Some(isrc) = &metadata.isrc {
        let isrc = crate::audio::tags::validate_isrc(isrc)
            .map_err(|m| Error::scene(&s.path, format!("[metadata] isrc: {m}")))?;
        metadata.isrc = Some(isrc);
    }
    let mut plan = Plan {
        name: s.title(),
        sample_rate: rate,
        frames,
        n_buffers: 1 + song.buses.len() + v.audible.len(),
        sources: v.files.iter().map(|p| Source { path: p.clone() }).collect(),
        stages,
        master: 0,
    };
    crate::engine::liveness::reuse_buffers(&mut plan);
    // refuse a target above 0 LUFS, or a ceiling above 0 dBTP in an integer format
    let target = song.master.target_lufs.unwrap_or(0.0);
    crate::engine::check_delivery("[master]", target, ceiling, format.is_float())
        .map_err(|m| Error::scene(&s.path, m))?;
    let delivery = SceneDelivery {
        scene_path: s.path.clone(),
        target_lufs: song.master.target_lufs,
        ceiling_dbtp: ceiling,
        limiter: mastering_limiter,
        fades: Fades {
            in_frames: sec(song.fade_in_s.unwrap_or(0.0)) as usize,
            out_frames: sec(song.fade_out_s.unwrap_or(0.0)) as usize,
        },
        dither_seed: crate::audio::encode::stable_hash(
            format!("{}|{}", s.path.display(), file).as_bytes(),
        ),
        output_path: PathBuf::from(file),
        output_format: format,
        delivery_rate_hz: delivery_rate,
        bwf: pd.bwf,
        metadata,
    };
    Ok((plan, delivery))
}

/// What a scene's song delivers beside its Plan: how it is closed (loudness target, the
/// master chain's closing limiter, the song fades) and the file it is written to.
#[derive(Debug, Clone)]
pub struct SceneDelivery {
    /// the scene file the song came from
    pub scene_path: PathBuf,
    /// target integrated loudness; `None` leaves the level alone
    pub target_lufs: Option<f64>,
    /// true-peak ceiling, dBTP
    pub ceiling_dbtp: f64,
    /// the master chain's closing limiter (ceiling set to `ceiling_dbtp`), run after the
    /// loudness gain
    pub limiter: Option<Limiter>,
    /// song fades, after the limiter
    pub fades: Fades,
    /// output file, relative to the output folder
    pub output_path: PathBuf,
    /// output sample format
    pub output_format: OutputFormat,
    /// sample rate of the output file: the mix is converted to it before the closing
    /// limiter when it differs from the Plan's rate
    pub delivery_rate_hz: u32,
    /// write a BWF `bext` chunk (EBU loudness fields) into a WAV output
    pub bwf: bool,
    /// seed of the dither noise (from the song, so renders are deterministic)
    pub dither_seed: u64,
    /// song metadata (tags)
    pub metadata: crate::scene::Metadata,
}

/// Fader, pan, automation and fades of one track.
fn track_strip(
    stages: &mut Vec<Stage>,
    buf: BufId,
    t: &Track,
    channels: usize,
    frames: usize,
    sec: impl Fn(f64) -> u64,
) {
    let law = if channels == 1 { pan_mono } else { pan_balance };
    let fader = db_to_linear(t.gain_db);
    let pan_g = if t.automation.pan.is_empty() {
        law(t.pan)
    } else {
        [1.0, 1.0]
    };
    let g = [(fader * pan_g[0]) as f32, (fader * pan_g[1]) as f32];
    if g != [1.0, 1.0] {
        stages.push(Stage::Gain { buf, gain: g });
    }
    if !t.automation.gain_db.is_empty() {
        let env = Envelope::new(sampled_curve(
            &t.automation.gain_db,
            &sec,
            AUTOMATION_DB_STEP,
            db_to_linear,
        ));
        stages.push(Stage::Envelope {
            buf,
            curves: Box::new([env.clone(), env]),
        });
    }
    if !t.automation.pan.is_empty() {
        let l = Envelope::new(sampled_curve(
            &t.automation.pan,
            &sec,
            AUTOMATION_PAN_STEP,
            |p| law(p)[0],
        ));
        let r = Envelope::new(sampled_curve(
            &t.automation.pan,
            &sec,
            AUTOMATION_PAN_STEP,
            |p| law(p)[1],
        ));
        stages.push(Stage::Envelope {
            buf,
            curves: Box::new([l, r]),
        });
    }
    if let Some(env) = fades(frames as u64, sec(t.fade_in_s), sec(t.fade_out_s)) {
        stages.push(Stage::Envelope {
            buf,
            curves: Box::new([env.clone(), env]),
        });
    }
}

/// Breakpoints `[seconds, value]` interpolated linearly in `value`, mapped through `map`,
/// sampled so one piece spans at most `step` of `value`.
fn sampled_curve(
    points: &[[f64; 2]],
    sec: &impl Fn(f64) -> u64,
    step: f64,
    map: impl Fn(f64) -> f64,
) -> Vec<(u64, f64)> {
    let mut out = vec![(sec(points[0][0]), map(points[0][1]))];
    for w in points.windows(2) {
        let ([t0, v0], [t1, v1]) = (w[0], w[1]);
        let pieces = ((v1 - v0).abs() / step).ceil().max(1.0) as usize;
        let pts = Envelope::sampled(sec(t0), sec(t1), pieces, |x| map(v0 + (v1 - v0) * x));
        out.extend(pts.into_iter().skip(1));
    }
    out
}

/// Equal-power (quarter-sine) fade-in over `fade_in` frames (the first frame silent) and
/// fade-out over the last `fade_out` frames of `frames` (the last frame silent), the curves
/// of [`crate::engine::Fades`]; `None` when there is neither.
pub fn fades(frames: u64, fade_in: u64, fade_out: u64) -> Option<Envelope> {
    if fade_in == 0 && fade_out == 0 {
        return None;
    }
    let q = std::f64::consts::FRAC_PI_2;
    let mut fin = if fade_in > 0 {
        Envelope::sampled(0, fade_in.min(frames), FADE_PIECES, |t| (t * q).sin())
    } else {
        vec![(0, 1.0)]
    };
    let mut fout = if fade_out > 0 {
        // ends on the last frame, which is silent (as the song fades of the closing)
        let last = frames.saturating_sub(1);
        Envelope::sampled(last.saturating_sub(fade_out), last, FADE_PIECES, |t| {
            ((1.0 - t) * q).sin()
        })
    } else {
        vec![]
    };
    if fade_in + fade_out > frames {
        // overlapping fades: multiply them, sampled on the union of their points
        let a = Envelope::new(fin.clone());
        let b = Envelope::new(if fout.is_empty() {
            vec![(0, 1.0)]
        } else {
            fout.clone()
        });
        let mut xs: Vec<u64> = fin.iter().chain(&fout).map(|p| p.0).collect();
        xs.sort_unstable();
        xs.dedup();
        return Some(Envelope::new(
            xs.iter()
                .map(|&x| {
                    (
                        x,
                        crate::ops::envelope::value_at(&a, x)
                            * crate::ops::envelope::value_at(&b, x),
                    )
                })
                .collect(),
        ));
    }
    fin.append(&mut fout);
    Some(Envelope::new(fin))
}
