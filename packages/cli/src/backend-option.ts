import { BACKEND_CHOICES, ConfigError, type BackendChoice } from '@llamats/core';

/** The `--backend` option's help line, shared by every command that runs a model. */
export const BACKEND_USAGE = `  --backend <name>   tensor backend: ${BACKEND_CHOICES.join(' | ')} (default auto: fastest available)`;

/** Checks a `--backend` value; undefined means auto. */
export function parseBackendOption(value: string | undefined): BackendChoice {
  if (value === undefined) return 'auto';
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ConfigError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}; got "${value}".`, { key: 'backend' });
}
