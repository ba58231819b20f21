/**
 * Decoding of revad's request bodies. reva sends `encoding/json` of CS3 structs (snake_case,
 * enums as numbers, oneofs under Go names like `{"Id":{"UserId":…}}`) and, in places, protojson
 * (camelCase, enums as names, 64-bit ints as strings). Every body is first folded to snake_case
 * keys (free-form maps — `metadata`, `map` — keep their keys), then validated with zod; a body that
 * does not fit is a BadRequestError naming the field, and nothing is changed.
 */
import { z } from 'zod';
import type { Context } from 'koa';
import { BadRequestError } from '../../errors.js';
import { readJson, readText } from '../../http/body.js';

/** `oldRef` → `old_ref`, `clientID` → `client_id`, `UserId` → `user_id`. */
export function snakeKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

const FREE_FORM = new Set(['metadata', 'map']);

export function toSnake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSnake);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const key = snakeKey(k);
    out[key] = FREE_FORM.has(key) ? v : toSnake(v);
  }
  return out;
}

/** An integer given as a JSON number or as a decimal string (protojson uint64). */
const int64 = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number)]);

export const resourceIdSchema = z.object({
  storage_id: z.string().optional(),
  opaque_id: z.string().optional(),
  space_id: z.string().optional(),
});
export type ResourceIdWire = z.infer<typeof resourceIdSchema>;

export const referenceSchema = z.object({
  resource_id: resourceIdSchema.nullish(),
  path: z.string().optional(),
});
export type ReferenceWire = z.infer<typeof referenceSchema>;

const stringMap = z.record(z.string(), z.string());

export const getMdSchema = z.object({
  ref: referenceSchema,
  md_keys: z.array(z.string()).nullish(),
});

export const moveSchema = z.object({ old_ref: referenceSchema, new_ref: referenceSchema });

export const initiateUploadSchema = z.object({
  ref: referenceSchema,
  upload_length: int64.optional(),
  metadata: stringMap.nullish(),
});

export const refOnlySchema = z.object({ ref: referenceSchema });

export const restoreRevisionSchema = z.object({ ref: referenceSchema, key: z.string().min(1, 'key is required') });

export const recycleSchema = z.object({
  key: z.string().optional(),
  path: z.string().optional(),
  restore_ref: referenceSchema.nullish(),
});

const idSchema = z.object({ idp: z.string().optional(), opaque_id: z.string().optional(), type: z.union([z.number(), z.string()]).optional() });

/** CS3 Grantee in either spelling: `{type:1,Id:{UserId:{…}}}` or `{type:"GRANTEE_TYPE_USER",userId:{…}}`. */
export const granteeSchema = z.object({
  type: z.union([z.number().int(), z.string()]).optional(),
  id: z.object({ user_id: idSchema.optional(), group_id: idSchema.optional() }).optional(),
  user_id: idSchema.optional(),
  group_id: idSchema.optional(),
});
export type GranteeWire = z.infer<typeof granteeSchema>;

export const grantSchema = z.object({
  ref: referenceSchema,
  g: z.object({
    grantee: granteeSchema,
    permissions: z.record(z.string(), z.union([z.boolean(), z.null()])).nullish(),
  }),
});

export const setMetadataSchema = z.object({ ref: referenceSchema, md: z.object({ metadata: stringMap.nullish() }) });
export const unsetMetadataSchema = z.object({ ref: referenceSchema, keys: z.array(z.string()) });
export const createReferenceSchema = z.object({ path: z.string().min(1, 'path is required'), url: z.string().min(1, 'url is required') });

export const authenticateSchema = z.object({ client_id: z.string().optional(), client_secret: z.string().optional() });
export const userIdSchema = idSchema;
export const claimSchema = z.object({ claim: z.string().min(1), value: z.string() });

/** Reads the JSON body (bounded) and validates it against `schema` after folding keys to snake_case. */
export async function readBody<T>(ctx: Context, schema: z.ZodType<T>, limit: number): Promise<T> {
  const raw = await readJson(ctx, limit);
  return validate(schema, raw);
}

export function validate<T>(schema: z.ZodType<T>, raw: unknown): T {
  const result = schema.safeParse(toSnake(raw));
  if (!result.success) {
    const reason = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new BadRequestError(`invalid request body — ${reason}`);
  }
  return result.data;
}

export { readText };
