// RFC 9457 problem details: every error the API answers is one of these, with a
// stable `code` that clients match on (never the `detail`, which is for people).

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A URN rather than a URL: it names the problem without promising a page that may never exist. */
export function problemType(code: string): string {
  return `urn:stackl:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** Extensions never overwrite the standard members, so a detail map cannot forge a status. */
export function problem(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return {
    ...extensions,
    type: problemType(code),
    title: titles[status] ?? (status >= 500 ? 'Server Error' : 'Client Error'),
    status,
    detail,
    code,
  };
}
