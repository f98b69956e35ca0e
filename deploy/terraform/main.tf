# Flotilla's infrastructure in one AWS account and region: a VPC, an EKS cluster, one PostgreSQL
# server (RDS; each service gets its own database on it) and a Redis
# replication group (ElastiCache). `terraform output -raw helm_values` gives the chart values that
# point the services and their network policies at them.

locals {
  name       = "flotilla-${var.environment}"
  production = var.environment == "production"
}

module "network" {
  source             = "./modules/network"
  name               = local.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = !local.production
}

module "cluster" {
  source             = "./modules/cluster"
  name               = local.name
  kubernetes_version = var.kubernetes_version
  subnet_ids         = module.network.private_subnet_ids
  instance_types     = var.node_instance_types
  node_count         = var.node_count
}

module "postgres" {
  source                = "./modules/postgres"
  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  client_security_group = module.cluster.node_security_group_id
  instance_class        = var.postgres_instance_class
  storage_gb            = var.postgres_storage_gb
  multi_az              = local.production
  backup_retention_days = var.postgres_backup_retention_days
  deletion_protection   = local.production
}

module "redis" {
  source                = "./modules/redis"
  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.private_subnet_ids
  client_security_group = module.cluster.node_security_group_id
  node_type             = var.redis_node_type
  replicas              = local.production ? 2 : 1
}
