/** Anything shaped like an email address (RFC 5321 local part and domain, loosely). */
const ADDRESS = /[^\s<>()[\]\\,;:"'@]+@[^\s<>()[\]\\,;:"'@]+\.[^\s<>()[\]\\,;:"'@]+/g;

/**
 * Error texts leave the process (logs, dead letters, the Kafka `dlq_error` header) and outlive an
 * erasure: an SMTP reply names its recipient (`550 <ann@example.com>: no such user`), so every
 * address in them is replaced before they are written.
 */
export const scrubAddresses = (text: string): string => text.replace(ADDRESS, '[address]');
