/** A configuration problem: start-up stops with this one line. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`config error: ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}
