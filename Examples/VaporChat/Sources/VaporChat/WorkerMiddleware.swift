import Vapor

/// Names the worker process in every response (`X-Worker`), errors included, and turns every
/// error into an ``APIError`` JSON body, logging the internal cause. It stands in for Vapor's
/// `ErrorMiddleware`, whose body is `{"error": true, "reason": ...}`.
struct WorkerMiddleware: AsyncMiddleware {
    let worker: String

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch {
            let apiError = APIError(from: error)
            if apiError.status.code >= 500 || apiError.detail != nil {
                // The cause is logged here and never sent: the client gets the stable code only.
                request.logger.warning("request failed", metadata: [
                    "path": "\(request.url.path)", "status": "\(apiError.status.code)", "code": "\(apiError.code)",
                    "error": "\(apiError.detail ?? apiError.message)",
                ])
            }
            response = Response(status: apiError.status, headers: apiError.headers)
            try response.content.encode(apiError.body, as: .json)
        }
        response.headers.replaceOrAdd(name: "X-Worker", value: worker)
        return response
    }
}
