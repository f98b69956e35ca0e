environment             = "staging"
region                  = "eu-west-1"
availability_zones      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                = "10.41.0.0/16"
node_count              = { desired = 3, min = 2, max = 6 }
postgres_instance_class = "db.t4g.medium"
redis_node_type         = "cache.t4g.small"
