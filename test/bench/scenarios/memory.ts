import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Server memory from /proc/<pid>/status: VmRSS now, VmHWM the peak. Before the send
 * scenario the peak is reset (`echo 5 > /proc/<pid>/clear_refs`) so setup (password
 * hashing while registering users) does not count; a 50 ms sampler of VmRSS backs it up
 * where the reset is not allowed.
 */

export interface MemStatus {
  rssMB: number;
  hwmMB: number;
}

export function readMem(pid: number): MemStatus {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
}

export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS until stopped; `stop()` returns the peak of the samples and of VmHWM. */
export function watchPeak(pid: number, everyMs = 50): { stop(): { peakMB: number; hwmReset: boolean } } {
  const hwmReset = resetPeak(pid);
  let peak = readMem(pid).rssMB;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, readMem(pid).rssMB);
    } catch {
      /* the process went away; the run will say so */
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = readMem(pid);
      return { peakMB: Math.max(peak, now.rssMB, hwmReset ? now.hwmMB : 0), hwmReset };
    },
  };
}
