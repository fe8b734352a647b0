extension ConnectionPool {
    /// Called when the pool is released: if its client was dropped without ``shutdown()`` while
    /// I/O threads were running, says so (at `debug`) and stops them, so that neither the threads
    /// nor their sockets leak. No call can be in flight then: every call holds the client.
    func stopThreadsOfDroppedClient() {
        guard !isShutdown else { return }
        let started = startedThreads
        guard started > 0 else { return }
        logger.debug("RedisClient released without shutdown(): closing its connections and stopping their I/O threads",
                     metadata: ["redis.threads": "\(started)"])
        for connection in connections { connection.closeWithoutWaiting() }
    }
}
