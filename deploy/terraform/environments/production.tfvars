environment             = "production"
region                  = "eu-west-1"
availability_zones      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                = "10.42.0.0/16"
node_count              = { desired = 3, min = 3, max = 12 }
postgres_instance_class = "db.r7g.large"
redis_node_type         = "cache.r7g.large"
