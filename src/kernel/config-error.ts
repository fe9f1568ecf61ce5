/** A configuration value that cannot start the platform; its message is one line for the operator. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
