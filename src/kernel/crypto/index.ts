export * from './keyed-hash.ts';
export * from './migrations.ts';
export * from './personal-data.ts';
export * from './scrub.ts';
