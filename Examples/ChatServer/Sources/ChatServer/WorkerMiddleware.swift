import HTTPTypes
import Hummingbird

/// Names the worker process in every response (`X-Worker`), errors included, and turns every
/// error into an ``APIError`` so the body is always JSON, and logs the internal cause.
struct WorkerMiddleware<Context: RequestContext>: RouterMiddleware {
    let worker: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError(from: error)
            if apiError.status.code >= 500 || apiError.detail != nil {
                // The cause is logged here and never sent: the client gets the stable code only.
                context.logger.warning("request failed", metadata: [
                    "path": "\(request.uri.path)", "status": "\(apiError.status.code)", "code": "\(apiError.code)",
                    "error": "\(apiError.detail ?? apiError.message)",
                ])
            }
            response = try apiError.response(from: request, context: context)
        }
        response.headers[.xWorker] = worker
        return response
    }
}

extension HTTPField.Name {
    static let xWorker = HTTPField.Name("X-Worker")!
}
