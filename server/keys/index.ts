export { loadOrCreateSigningKey } from './signing-key-store.ts';
