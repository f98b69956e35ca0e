variable "name" {
  description = "Name prefix."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the server."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the DB subnet group."
  type        = list(string)
}

variable "client_security_group" {
  description = "Security group allowed to connect (the cluster's)."
  type        = string
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "storage_gb" {
  description = "Allocated storage in GiB."
  type        = number
}

variable "multi_az" {
  description = "A standby in another zone."
  type        = bool
}

variable "backup_retention_days" {
  description = "Automated backup retention."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse deletion of the server."
  type        = bool
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "this" {
  name        = "${var.name}-postgres"
  description = "PostgreSQL for ${var.name}"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  security_group_id            = aws_security_group.this.id
  referenced_security_group_id = var.client_security_group
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_instance" "this" {
  identifier                          = var.name
  engine                              = "postgres"
  engine_version                      = "17"
  instance_class                      = var.instance_class
  allocated_storage                   = var.storage_gb
  max_allocated_storage               = var.storage_gb * 4
  storage_encrypted                   = true
  db_subnet_group_name                = aws_db_subnet_group.this.name
  vpc_security_group_ids              = [aws_security_group.this.id]
  username                            = "flotilla"
  manage_master_user_password         = true
  multi_az                            = var.multi_az
  backup_retention_period             = var.backup_retention_days
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = !var.deletion_protection
  final_snapshot_identifier           = var.deletion_protection ? "${var.name}-final" : null
  performance_insights_enabled        = true
  auto_minor_version_upgrade          = true
  copy_tags_to_snapshot               = true
  publicly_accessible                 = false
  iam_database_authentication_enabled = true
}

output "endpoint" {
  description = "host:port of the server."
  value       = aws_db_instance.this.endpoint
}

output "port" {
  description = "Port of the server."
  value       = aws_db_instance.this.port
}

output "master_secret_arn" {
  description = "Secrets Manager ARN of the master credentials."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}
