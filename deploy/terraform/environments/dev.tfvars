environment             = "dev"
region                  = "eu-west-1"
availability_zones      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                = "10.40.0.0/16"
node_count              = { desired = 2, min = 1, max = 3 }
postgres_instance_class = "db.t4g.small"
redis_node_type         = "cache.t4g.micro"
