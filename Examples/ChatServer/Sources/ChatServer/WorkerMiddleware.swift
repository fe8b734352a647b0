import HTTPTypes
import Hummingbird

/// Names the worker process in every response (`X-Worker`), errors included, and turns every
/// error into an ``APIError`` so the body is always JSON.
struct WorkerMiddleware<Context: RequestContext>: RouterMiddleware {
    let worker: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = (error as? HTTPError).map(APIError.init(http:)) ?? APIError(from: error)
            if apiError.status.code >= 500 {
                context.logger.warning("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(apiError.message)"])
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
