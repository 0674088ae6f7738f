import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'commcomms' }, timestamp: pino.stdTimeFunctions.isoTime });
}
