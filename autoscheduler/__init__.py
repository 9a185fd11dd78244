"""pipelang's autoscheduler (beam search with a learned cost model): not built yet."""
