import { z } from 'zod';

// Each cause of a refusal: the field (a dotted path into the body) and what is wrong with it.
export const ProblemErrorsSchema = z.array(z.object({ field: z.string(), message: z.string() })).min(1);

// RFC 9457 problem details, the body of every error response.
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string().optional(),
  traceId: z.string().optional(),
  errors: ProblemErrorsSchema.optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
