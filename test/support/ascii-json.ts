/**
 * The response writer's text is JSON.stringify's with every UTF-16 code unit above 0x7F written as
 * a \uXXXX escape (src/http/serializer.ts `asciiJson`). Written here independently, code unit by
 * code unit, so that the tests hold the writer to JSON.stringify through a second implementation.
 */
export function asciiEscaped (json: string): string {
  let out = ''
  for (let i = 0; i < json.length; i++) {
    const unit = json.charCodeAt(i)
    out += unit < 0x80 ? json[i] as string : `\\u${unit.toString(16).padStart(4, '0')}`
  }
  return out
}
