import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; every line about an event carries its correlation and causation ids. */
export const createLogger = (level: string = 'info'): Logger =>
  pino({ level, base: { service: 'tributary' }, timestamp: pino.stdTimeFunctions.isoTime });

export const silentLogger: Logger = pino({ level: 'silent' });
