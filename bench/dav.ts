/**
 * WebDAV benchmark: meshdav (a child process) against `rclone serve webdav` on the same files
 * in the same run, and Apache mod_dav when installed. Prints figures and ratios:
 *   GET and PUT of a big file (default 1 GiB): throughput ≥ 1.0× rclone, meshdav peak RSS < 150 MB;
 *   PROPFIND Depth 1 allprop of a 10,000-file folder: time ≤ 1.0× rclone's;
 *   100 concurrent clients fetching small files for 20 s: requests/s ≥ rclone's, 0 errors.
 * Environment: BENCH_BIG_MIB (1024), BENCH_FILES (10000), BENCH_CLIENTS (100),
 * BENCH_LOAD_SECONDS (20), BENCH_ROUNDS (3; PUT rounds), BENCH_GET_ROUNDS (5), BENCH_LOAD_ROUNDS (3),
 * BENCH_CPU_PROF=<dir> (meshdav under --cpu-prof),
 * BENCH_NODE_ARGS="<flags>" (more Node flags for the meshdav child), BENCH_FROM_SOURCE=1 (run
 * the child through tsx instead of the built dist/), BENCH_KEEP=1 (keep the temporary directory).
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deferredChecksumsDone, startMeshdav, type DavServer } from './lib/meshdav.js';
import { apacheAvailable, startApache, startRcloneServe } from './lib/peers.js';
import { currentRss, peakRss, resetPeakRss } from './lib/proc.js';
import { MiB, KiB, seedFiles, writeRandomFile } from './lib/files.js';
import { loadTest, timedGet, timedPropfind, timedPut, type LoadResult } from './lib/measure.js';
import { fmtMB, fmtRate, fmtRatio, fmtRps, fmtSeconds, median, printTable, type Row } from './lib/report.js';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const BIG = env('BENCH_BIG_MIB', 1024) * MiB;
const FILES = env('BENCH_FILES', 10_000);
const CLIENTS = env('BENCH_CLIENTS', 100);
const LOAD_SECONDS = env('BENCH_LOAD_SECONDS', 20);
const ROUNDS = env('BENCH_ROUNDS', 3);
const GET_ROUNDS = env('BENCH_GET_ROUNDS', Math.max(ROUNDS, 5));
const LOAD_ROUNDS = env('BENCH_LOAD_ROUNDS', ROUNDS);
const RSS_LIMIT = 150 * 1e6;
const USER = 'bench';
const PASSWORD = 'bench-password-not-secret';

const log = (s: string) => console.log(`[dav] ${s}`);

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'meshdav-bench-'));
  const stops: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
    if (process.env.BENCH_KEEP !== '1') rmSync(tmp, { recursive: true, force: true });
  };
  // Interrupted (Ctrl-C, timeout): stop the servers and remove the files before leaving.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the servers`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  try {
    log(`temporary directory ${tmp}; big file ${BIG / MiB} MiB, ${FILES} files, ${CLIENTS} clients × ${LOAD_SECONDS} s`);
    const meshdav = await startMeshdav({
      dataDir: join(tmp, 'data'),
      user: USER,
      password: PASSWORD,
      cpuProfDir: process.env.BENCH_CPU_PROF,
      nodeArgs: process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean),
    });
    stops.push(meshdav.stop);
    const startRss = currentRss(meshdav.child.pid);
    log(`meshdav child ${meshdav.child.pid} (running ${meshdav.runtime === 'dist' ? 'compiled dist/' : 'src/ through tsx'}) up at ${meshdav.davUrl}`);
    const src = join(tmp, 'source.bin');
    await writeRandomFile(src, BIG);
    log('source file written; PUT rounds');

    // Big files first, on a fresh process, so peak RSS reflects the transfer and not earlier work.
    // rclone caches directory listings (5 min by default), so each rclone instance is started
    // only after meshdav has written what that instance must see.
    const mkcol = await fetch(meshdav.davUrl + 'big', { method: 'MKCOL', headers: { authorization: meshdav.auth } });
    if (mkcol.status !== 201) throw new Error(`MKCOL big → ${mkcol.status}`);
    const meshPut: number[] = [];
    resetPeakRss(meshdav.child.pid);
    meshPut.push((await timedPut(meshdav, 'big/file.bin', src, BIG)).rate);
    let putPeak = peakRss(meshdav.child.pid);
    // After each meshdav upload, its background MD5/Adler32 finish before anything else is measured.
    const backfill = [await deferredChecksumsDone(meshdav.davUrl)];

    const rcloneBig = await startRcloneServe(meshdav.filesDir, USER, PASSWORD);
    stops.push(rcloneBig.stop);
    mkdirSync(join(tmp, 'rclone-put'));
    const rclonePutTarget = await startRcloneServe(join(tmp, 'rclone-put'), USER, PASSWORD);
    stops.push(rclonePutTarget.stop);
    let apache: DavServer | undefined;
    if (apacheAvailable()) {
      try {
        apache = await startApache(meshdav.filesDir, join(tmp, 'apache'), USER, PASSWORD);
        stops.push(apache.stop);
      } catch (err) {
        log(`apache not measured: ${(err as Error).message.split('\n')[0]}`);
      }
    }

    // PUT: alternate meshdav and rclone rounds; fresh names so no version copies are made.
    const rclonePut: number[] = [];
    for (let i = 1; i < ROUNDS; i++) {
      rclonePut.push((await timedPut(rclonePutTarget, `put-${i}.bin`, src, BIG)).rate);
      resetPeakRss(meshdav.child.pid);
      meshPut.push((await timedPut(meshdav, `big/put-${i}.bin`, src, BIG)).rate);
      putPeak = Math.max(putPeak, peakRss(meshdav.child.pid));
      backfill.push(await deferredChecksumsDone(meshdav.davUrl));
    }
    rclonePut.push((await timedPut(rclonePutTarget, `put-${ROUNDS}.bin`, src, BIG)).rate);
    log(`PUT meshdav ${meshPut.map(fmtRate).join(', ')}; rclone ${rclonePut.map(fmtRate).join(', ')}`);
    log(`meshdav background MD5/Adler32 after each PUT (waited for, nothing measured meanwhile): ${backfill.map((x) => x.toFixed(1)).join(', ')} s`);

    // GET of the same file on disk from each server, alternating, best round of each. First a
    // pause as any server gets between requests (idle upload hashers are let go after 5 s).
    await new Promise((r) => setTimeout(r, 6_000));
    log(`meshdav RSS before the GET rounds: ${fmtMB(currentRss(meshdav.child.pid))}`);
    // Then more rounds than PUT (a GET is cheap), the order reversed every other round.
    const getRates: Record<string, number[]> = { meshdav: [], rclone: [], apache: [] };
    let getPeak = 0;
    const getServers = [meshdav, rcloneBig, ...(apache ? [apache] : [])];
    // One unmeasured GET each first (code paths warmed, page cache settled after the PUTs).
    for (const s of getServers) await timedGet(s, 'big/file.bin');
    for (let i = 0; i < GET_ROUNDS; i++) {
      for (const s of i % 2 === 0 ? getServers : [...getServers].reverse()) {
        if (s === meshdav) resetPeakRss(meshdav.child.pid);
        const g = await timedGet(s, 'big/file.bin');
        if (g.bytes !== BIG) throw new Error(`${s.name} GET returned ${g.bytes} bytes, not ${BIG}`);
        getRates[s.name]!.push(g.rate);
        if (s === meshdav) getPeak = Math.max(getPeak, peakRss(meshdav.child.pid));
      }
    }
    log(`GET meshdav ${getRates.meshdav!.map(fmtRate).join(', ')}; rclone ${getRates.rclone!.map(fmtRate).join(', ')}`);
    log(`GET medians: meshdav ${fmtRate(median(getRates.meshdav!))}, rclone ${fmtRate(median(getRates.rclone!))} (${fmtRatio(median(getRates.meshdav!) / median(getRates.rclone!))})`);
    await rcloneBig.stop();
    await rclonePutTarget.stop();

    // Many small files, seeded through meshdav's own PUT; then a fresh rclone on the same files.
    const t = Date.now();
    await seedFiles(meshdav, 'many', FILES, 100);
    log(`seeded ${FILES} files through meshdav PUT in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const small = await seedFiles(meshdav, 'small', 200, 4 * KiB);
    const rclone = await startRcloneServe(meshdav.filesDir, USER, PASSWORD);
    stops.push(rclone.stop);

    // PROPFIND Depth 1 allprop of the 10,000-file folder: one warm-up each, then median of rounds.
    const pf: Record<string, number[]> = { meshdav: [], rclone: [], apache: [] };
    const servers = [meshdav, rclone, ...(apache ? [apache] : [])];
    for (const s of servers) {
      const r = await timedPropfind(s, 'many');
      if (r.responses !== FILES + 1) log(`warning: ${s.name} PROPFIND returned ${r.responses} responses, expected ${FILES + 1}`);
      log(`PROPFIND warm-up ${s.name}: ${fmtSeconds(r.seconds)}, ${(r.bytes / 1e6).toFixed(1)} MB`);
    }
    for (let i = 0; i < Math.max(ROUNDS, 5); i++) for (const s of servers) pf[s.name]!.push((await timedPropfind(s, 'many')).seconds);

    // Concurrent small-file GETs, after a short unmeasured warm-up of each server (JIT, caches);
    // then rounds with the order reversed every other round; each server's median round counts.
    const loadRuns: Record<string, LoadResult[]> = {};
    for (const s of servers) await loadTest(s, small, CLIENTS, Math.min(3, LOAD_SECONDS));
    let loadPeak = 0;
    for (let i = 0; i < LOAD_ROUNDS; i++) {
      for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
        if (s === meshdav) resetPeakRss(meshdav.child.pid);
        const l = await loadTest(s, small, CLIENTS, LOAD_SECONDS);
        if (s === meshdav) loadPeak = Math.max(loadPeak, peakRss(meshdav.child.pid));
        (loadRuns[s.name] ??= []).push(l);
        log(`load round ${i + 1} ${s.name}: ${l.requests} requests in ${l.seconds.toFixed(1)} s = ${fmtRps(l.rps)}, ${l.errors} errors ${l.samples.join('; ')}`);
      }
    }
    const load: Record<string, { rps: number; best: number; errors: number }> = {};
    for (const [name, runs] of Object.entries(loadRuns)) {
      const rates = runs.map((r) => r.rps);
      load[name] = { rps: median(rates), best: Math.max(...rates), errors: runs.reduce((n, r) => n + r.errors, 0) };
    }
    log(`load best rounds: meshdav ${fmtRps(load.meshdav!.best)}, rclone ${fmtRps(load.rclone!.best)} (${fmtRatio(load.meshdav!.best / load.rclone!.best)})`);

    const best = (xs: number[]) => Math.max(...xs);
    const na = '–';
    const rows: Row[] = [];
    const getM = best(getRates.meshdav!);
    const getR = best(getRates.rclone!);
    rows.push({
      metric: `GET ${BIG / MiB} MiB (best of ${GET_ROUNDS})`,
      meshdav: fmtRate(getM),
      rclone: fmtRate(getR),
      apache: apache ? fmtRate(best(getRates.apache!)) : na,
      ratio: fmtRatio(getM / getR),
      target: '≥ 1.00×',
      ok: getM >= getR,
    });
    const putM = best(meshPut);
    const putR = best(rclonePut);
    rows.push({ metric: `PUT ${BIG / MiB} MiB (best of ${ROUNDS})`, meshdav: fmtRate(putM), rclone: fmtRate(putR), apache: na, ratio: fmtRatio(putM / putR), target: '≥ 1.00×', ok: putM >= putR });
    rows.push({ metric: 'meshdav child runs', meshdav: meshdav.runtime === 'dist' ? 'dist/ (built)' : 'src/ via tsx', rclone: na, apache: na, ratio: na, target: 'report', ok: undefined });
    rows.push({ metric: 'RSS after start (idle)', meshdav: fmtMB(startRss), rclone: na, apache: na, ratio: na, target: 'report', ok: undefined });
    rows.push({ metric: 'peak RSS during GET', meshdav: fmtMB(getPeak), rclone: na, apache: na, ratio: na, target: '< 150 MB', ok: getPeak < RSS_LIMIT });
    rows.push({ metric: 'peak RSS during PUT', meshdav: fmtMB(putPeak), rclone: na, apache: na, ratio: na, target: '< 150 MB', ok: putPeak < RSS_LIMIT });
    const pfM = median(pf.meshdav!);
    const pfR = median(pf.rclone!);
    rows.push({
      metric: `PROPFIND D1 allprop ${FILES} files`,
      meshdav: fmtSeconds(pfM),
      rclone: fmtSeconds(pfR),
      apache: apache ? fmtSeconds(median(pf.apache!)) : na,
      ratio: fmtRatio(pfR / pfM),
      target: 'time ≤ rclone',
      ok: pfM <= pfR,
    });
    const lm = load.meshdav!;
    const lr = load.rclone!;
    rows.push({
      metric: `${CLIENTS} clients × ${LOAD_SECONDS} s small GETs (median of ${LOAD_ROUNDS})`,
      meshdav: `${fmtRps(lm.rps)}, ${lm.errors} err`,
      rclone: `${fmtRps(lr.rps)}, ${lr.errors} err`,
      apache: load.apache ? `${fmtRps(load.apache.rps)}, ${load.apache.errors} err` : na,
      ratio: fmtRatio(lm.rps / lr.rps),
      target: '≥ 1.00×, 0 errors',
      ok: lm.rps >= lr.rps && lm.errors === 0,
    });
    rows.push({ metric: 'peak RSS during load', meshdav: fmtMB(loadPeak), rclone: na, apache: na, ratio: na, target: 'report', ok: undefined });
    console.log('');
    printTable(rows);
    console.log('');
    const missed = rows.filter((r) => r.ok === false).map((r) => r.metric);
    log(missed.length ? `targets missed: ${missed.join('; ')}` : 'all targets met');
    if (process.env.BENCH_CPU_PROF) log(`meshdav CPU profile will be in ${process.env.BENCH_CPU_PROF}`);
  } finally {
    await cleanUp();
  }
}

main().catch((err) => {
  console.error(`[dav] failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
});
