/**
 * The registration saga's imports, until the workflow engine replaces it: personal-data crypto
 * lives in src/kernel/crypto, which services, reactions and views all use.
 */
export { emailDigest } from '../../kernel/crypto/keyed-hash.ts';
export { encrypt, shred } from '../../kernel/crypto/personal-data.ts';
