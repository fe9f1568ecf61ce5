import type { z } from 'zod';
import { EventValidationError } from '../store/errors.ts';
import type { EventDefinition } from './define-event.ts';

/** Every event type the platform knows: validates at append and at consume, upcasts on read. */
export class EventCatalog {
  private readonly byType = new Map<string, EventDefinition>();

  constructor(readonly definitions: readonly EventDefinition[]) {
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) throw new Error(`event type declared twice: ${definition.type}`);
      this.byType.set(definition.type, definition);
    }
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  get(type: string): EventDefinition {
    const definition = this.byType.get(type);
    if (!definition) throw new EventValidationError(type, 'type', `unknown event type: ${type}`);
    return definition;
  }

  topics(): string[] {
    return [...new Set(this.definitions.map((definition) => definition.topic))].sort();
  }

  typesOf(topics: readonly string[]): string[] {
    return this.definitions.filter((definition) => topics.includes(definition.topic)).map((d) => d.type);
  }

  /**
   * Brings `data` written at `schemaVersion` up to the current version, then validates it
   * (`trusted`: not when it was already of the current version and validated by the store).
   */
  decode(
    type: string,
    schemaVersion: number,
    data: unknown,
    options: { trusted?: boolean } = {},
  ): { data: unknown; schemaVersion: number } {
    const definition = this.get(type);
    if (schemaVersion > definition.version) {
      throw new EventValidationError(
        type,
        'schemaVersion',
        `${type}: unknown schema version ${schemaVersion} (current ${definition.version})`,
      );
    }
    let current = data as Record<string, unknown>;
    for (let version = schemaVersion; version < definition.version; version++) {
      const upcast = definition.upcasters?.[version];
      if (!upcast)
        throw new EventValidationError(type, 'schemaVersion', `${type}: no upcaster from version ${version}`);
      current = upcast(current);
    }
    // Data of the current version from a trusted source (the store validated it at append) is as it was validated.
    if (options.trusted && schemaVersion === definition.version) return { data: current, schemaVersion };
    return { data: this.validate(type, current), schemaVersion: definition.version };
  }

  /** Validates a new event's data: the schema, and the stricter append schema where there is one. */
  validateForAppend(type: string, data: unknown): unknown {
    const parsed = this.validate(type, data);
    const strict = this.get(type).appendSchema;
    return strict ? this.check(type, strict, parsed) : parsed;
  }

  /** Validates data of the current version; the error names the first wrong field. */
  validate(type: string, data: unknown): unknown {
    return this.check(type, this.get(type).schema as z.ZodType, data);
  }

  private check(type: string, schema: z.ZodType, data: unknown): unknown {
    const result = schema.safeParse(data);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : null;
    const where = field ? `data.${field}` : 'data';
    throw new EventValidationError(type, field, `${type}: invalid ${where}: ${issue?.message ?? 'invalid'}`);
  }

  partitionKey(type: string, data: unknown): string {
    return this.get(type).partitionKey(data);
  }
}
