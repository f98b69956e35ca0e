variable "name" {
  description = "Name prefix."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the replication group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the cache subnet group."
  type        = list(string)
}

variable "client_security_group" {
  description = "Security group allowed to connect (the cluster's)."
  type        = string
}

variable "node_type" {
  description = "ElastiCache node type."
  type        = string
}

variable "replicas" {
  description = "Read replicas besides the primary; automatic failover needs at least one."
  type        = number
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis for ${var.name}"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.client_security_group
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "Redis for ${var.name}: cache and rate limits"
  engine                     = "redis"
  engine_version             = "7.1"
  node_type                  = var.node_type
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  snapshot_retention_limit   = 1
}

output "endpoint" {
  description = "host:port of the primary endpoint."
  value       = "${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
}

output "port" {
  description = "Port of Redis."
  value       = 6379
}
