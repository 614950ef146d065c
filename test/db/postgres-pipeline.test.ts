// The model/query suite on PostgreSQL with statements outside transactions pipelined
// (`db.pipeline`); transactions still take a pooled connection.
import { postgresSuite } from './postgres-suite.ts'

postgresSuite('model and query suite on PostgreSQL with pipelined connections', { poolSize: 4, pipeline: 2 })
