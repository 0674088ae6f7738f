/**
 * PostgreSQL settings for embedded PGlite, passed as `-c` start parameters (after PGlite's
 * own) so they hold for every data directory, whatever its postgresql.conf says.
 *
 * shared_buffers: initdb writes 128MB, sized for a server whose other backends share the
 * pool. PGlite is one backend, its data files are read through Node's fs from the kernel's
 * page cache (which is not counted in our RSS, and which the kernel gives back under
 * pressure), and PGlite's shared memory is an anonymous mmap that Emscripten zero-fills, so
 * every byte of the pool is resident from the first second. 128MB of it was 122MB of the
 * idle process's ~430MB. 16MB keeps the hot catalog and index pages of a community server in
 * the pool; misses are a pread from the page cache, not a disk read. wal_buffers (auto:
 * 1/32 of shared_buffers, so 512kB) follows it; one backend's commits flush it anyway.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
};

export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, ...Object.entries(PGLITE_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}
