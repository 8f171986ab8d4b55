import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { toErrorResponse } from './app.js'
import { ApiError } from './errors.js'

describe('toErrorResponse', () => {
  it('keeps the code and message of an ApiError', () => {
    expect(toErrorResponse(new ApiError(409, 'name_taken', 'Pick another name.'))).toEqual({ status: 409, body: { error: 'name_taken', message: 'Pick another name.' } })
  })

  it("maps hono's own HTTPExceptions by status", () => {
    expect(toErrorResponse(new HTTPException(400, { message: 'Malformed JSON in request body' }))).toEqual({ status: 400, body: { error: 'invalid_input', message: 'Malformed JSON in request body' } })
    expect(toErrorResponse(new HTTPException(401)).body.error).toBe('unauthenticated')
  })

  it('turns a zod error into 400 invalid_input with a readable message', () => {
    const err = z.object({ name: z.string() }).safeParse({ name: 1 }).error
    const res = toErrorResponse(err)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_input')
    expect(res.body.message).toMatch(/^name: /)
  })

  it('turns a unique-constraint race into 409, anything else into a 500 without internals', () => {
    expect(toErrorResponse(Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' })).status).toBe(409)
    const res = toErrorResponse(new Error('secret internals'))
    expect(res.status).toBe(500)
    expect(res.body.error).toBe('internal')
    expect(res.body.message).not.toMatch(/secret/)
  })
})
