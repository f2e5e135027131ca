"""Identity claims (实名核验申请): an account says who it is, intake verifies or rejects it; one claim waits per
account. An agent has one authorisation waiting per person at a time."""

import credit.models.people
import django.db.models.deletion
import django.utils.timezone
import django_fsm
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credit', '0015_audit_export_and_log_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='IdentityClaim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, verbose_name='name')),
                ('id_type', models.CharField(choices=[('resident_id', 'Resident identity card (居民身份证)'), ('hmt_permit', 'Residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证)'), ('foreign_permanent', 'Foreign permanent resident ID card (外国人永久居留身份证)')], max_length=30, verbose_name='identity document type')),
                ('id_encrypted', models.TextField(editable=False, verbose_name='ID number (encrypted)')),
                ('id_hash', models.CharField(editable=False, max_length=64)),
                ('id_masked', models.CharField(editable=False, max_length=18, verbose_name='ID number')),
                ('document', models.FileField(blank=True, upload_to='identity/%Y/', verbose_name='identity document')),
                ('document_type', models.CharField(blank=True, max_length=50)),
                ('channel', models.CharField(choices=[('online', 'Online, at sign-up or later in the portal'), ('window', 'At the intake window')], default='online', max_length=10)),
                ('consent_at', models.DateTimeField(verbose_name='consent to the real-name check given at')),
                ('status', django_fsm.FSMField(choices=[('pending', 'Waiting for the real-name check'), ('verified', 'Verified'), ('rejected', 'Rejected')], default='pending', max_length=10, protected=True)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('reason', models.TextField(blank=True, verbose_name='reason')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='submitted at')),
            ],
            options={
                'verbose_name': 'identity claim',
                'verbose_name_plural': 'identity claims',
            },
            bases=(django_fsm.ConcurrentTransitionMixin, credit.models.people.HoldsIdNumber, models.Model),
        ),
        migrations.AddConstraint(
            model_name='authorisation',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('agent', 'person'), name='authorisation_one_pending_per_agent_and_person'),
        ),
        migrations.AddField(
            model_name='identityclaim',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='identityclaim',
            name='person',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='identity_claims', to='credit.person', verbose_name='person'),
        ),
        migrations.AddField(
            model_name='identityclaim',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='identity_claims', to=settings.AUTH_USER_MODEL, verbose_name='applicant account'),
        ),
        migrations.AddIndex(
            model_name='identityclaim',
            index=models.Index(condition=models.Q(('status', 'pending')), fields=['created_at', 'id'], name='identity_claim_waiting'),
        ),
        migrations.AddIndex(
            model_name='identityclaim',
            index=models.Index(fields=['id_hash'], name='identity_claim_id_hash'),
        ),
        migrations.AddConstraint(
            model_name='identityclaim',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'pending')), fields=('user',), name='identity_claim_one_pending_per_account'),
        ),
    ]
